{#
  An id as staging keys it: the expression of warehouse/ids.py (the loader
  writes ids through it), kept identical by tests/warehouse/test_ids.py.
  Full-width forms to ASCII, NFC, control/zero-width/format characters
  removed, Unicode spaces made plain and trimmed; NULL when nothing is left.
  Plain printable ASCII (nearly every id) is kept as is after one test.
#}
{% macro normalize_id(expression) -%}
    {{ return(adapter.dispatch('normalize_id', 'churn')(expression)) }}
{%- endmacro %}

{# Spark has no NFC normalisation: the same steps in Python (warehouse.ids),
   registered on the session as churn_normalize_id (warehouse.spark). #}
{% macro spark__normalize_id(expression) -%}
    churn_normalize_id(cast({{ expression }} as string))
{%- endmacro %}

{% macro default__normalize_id(expression) -%}
    case when regexp_full_match(cast({{ expression }} as varchar), '[\x21-\x7e]+') then cast({{ expression }} as varchar) else nullif(trim(regexp_replace(regexp_replace(nfc_normalize(translate(cast({{ expression }} as varchar), '！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～　', '!"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~ ')), '[\x00-\x1f\x7f-\x9f\x{200b}-\x{200f}\x{2028}-\x{202e}\x{2060}-\x{206f}\x{feff}]', '', 'g'), '[\x{a0}\x{1680}\x{2000}-\x{200a}\x{202f}\x{205f}]', ' ', 'g')), '') end
{%- endmacro %}
