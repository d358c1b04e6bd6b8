"""Code generator for ``cvat_sdk.api_client``: a CVAT server schema in, a Python package out.

The pipeline: :mod:`gen.schema_io` loads the schema, :mod:`gen.inline` names the inline wrapper
schemas, :mod:`gen.annotate` computes every declaration the templates print (as ``x-py-*``
vendor extensions), and :mod:`gen.generate` runs openapi-generator over ``gen/templates``.
"""
