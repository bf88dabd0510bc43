"""What every package shares about the warehouse: the raw contract (read from the
dbt project), where the warehouse file lives and how it is written, and the CLI
conventions. It imports none of seeds_gen, loader or modeling."""
