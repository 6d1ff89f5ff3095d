"""Wording shared by messages and reports."""

from tinysleepnet.text import counted, markdown_table


def test_counted_puts_the_noun_in_the_right_number():
    assert counted(1, "pass") == "1 pass"
    assert counted(2, "pass") == "2 passes"
    assert counted(1000, "epoch") == "1,000 epochs"


def test_markdown_table_has_a_rule_under_its_header():
    assert markdown_table(["stage", "epochs"], [["W", "10"], ["N1", "2"]]) == [
        "| stage | epochs |",
        "|---|---|",
        "| W | 10 |",
        "| N1 | 2 |",
    ]
    assert markdown_table(["a"], []) == ["| a |", "|---|"]
