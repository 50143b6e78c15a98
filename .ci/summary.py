"""Print how many tests ran on each database backend, from pytest's JUnit XML files, and a closing total."""

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

totals = {"passed": 0, "failed": 0, "skipped": 0}
for path in map(Path, sys.argv[1:]):
    suite = ET.parse(path).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    assert suite is not None
    tests, failures, errors, skipped = (int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
    passed = tests - failures - errors - skipped
    line = f"{path.stem}: {tests} tests ran, {passed} passed, {failures + errors} failed, {skipped} skipped"
    left = suite.find("properties/property[@name='spatialite_only']")
    if left is not None:  # tests/conftest.py leaves the tests that use no database to the SpatiaLite run
        line += f"; {left.get('value')} that use no database ran on SpatiaLite only"
    print(line)
    totals["passed"] += passed
    totals["failed"] += failures + errors
    totals["skipped"] += skipped
print(f"{totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped")
