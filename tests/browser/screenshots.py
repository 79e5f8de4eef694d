"""Write docs/screenshots/{indbakke,opgave,sag,studio-*,oversigt}.png: `python -m tests.browser.screenshots`.

Runs the browser scenario with TOVHOLDER_SCREENSHOTS=1 against a fresh test
database; commit the PNGs it writes (README.md shows them).
"""
import os
import sys

import pytest

if __name__ == "__main__":
    os.environ["TOVHOLDER_SCREENSHOTS"] = "1"
    SCENARIOS = ["tests/browser/test_web_browser.py::test_caseworker_works_a_task_through_to_ydelsesservice",
                 "tests/browser/test_studio_modeler.py::"
                 "test_a_process_owner_adds_a_task_sets_its_properties_saves_and_publishes",
                 "tests/browser/test_studio_browser.py::"
                 "test_a_process_owner_compares_versions_and_moves_the_cases_with_a_dry_run_first",
                 "tests/browser/test_web_dashboard.py::test_a_team_lead_opens_the_dashboard_from_the_header_in_a_browser",
                 "tests/browser/test_studio_browser.py::test_the_form_preview_follows_the_editor_as_the_owner_types",
                 "tests/browser/test_studio_decisions.py::"
                 "test_a_process_owner_edits_a_rule_sees_a_bad_entry_fixes_it_publishes_and_cases_decide_by_it"]
    sys.exit(pytest.main(["-q", *SCENARIOS]))
