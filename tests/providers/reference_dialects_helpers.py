"""What the two reference-document dialect tests (test_idps_dialect.py, test_jsonapi_dialect.py)
share: the documents' timestamp format."""

import re

# A timestamp as the documents write them: ISO 8601 in UTC with a "Z".
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
