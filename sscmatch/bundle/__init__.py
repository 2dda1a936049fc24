"""Bundles: the import/export format of ../shared/spec/bundle.md (a CSV folder, the same zipped,
or one JSON file).

``import_bundle`` validates the whole bundle before it writes anything and reports every problem as
``file:line: field: what is wrong (expected …)`` (``file:line: record: field: …`` in a JSON file,
the record being its array, place and id: ``needs[3] (id 'N-1')``); ``export_bundle`` writes
every record so that export → import into an empty database → export gives identical files.
"""

from sscmatch.bundle.export import export_bundle
from sscmatch.bundle.format import TABLES, BundleError, Problem
from sscmatch.bundle.load import ImportReport, import_bundle

__all__ = ["TABLES", "BundleError", "ImportReport", "Problem", "export_bundle", "import_bundle"]
