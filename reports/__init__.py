"""Results model and the reports made from it: HTML, Markdown, JSON, JUnit, Allure, diffs."""
