{#
  The table `python -m modeling.score` writes (declared as source scoring.churn_scores).
  Created empty, if missing, at the start of every dbt run so that the models on top
  of it build before any model has scored; its columns are defined only here.
#}
{% macro create_scores_table() %}
    create schema if not exists scoring;
    create table if not exists scoring.churn_scores (
        customer_id varchar not null,
        as_of date not null,
        churn_probability double not null,
        risk_decile integer not null,
        customer_value double not null,
        expected_value_of_contact double not null,
        recommended_action varchar not null,
        model_name varchar not null,
        model_version varchar not null,
        scored_at timestamp not null
    );
{% endmacro %}
