"""Dynamic membership rules: the subset the emulator evaluates, and what it refuses."""

from __future__ import annotations

import pytest

from reconciler.emulator.dynamic import RuleError, compile_rule

ADA = {"employeeType": "Employee", "accountEnabled": True, "department": "Engineering", "city": None}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ('(user.employeeType -eq "Employee") and (user.accountEnabled -eq true)', True),
        ('user.employeeType -eq "employee"', True),
        ('user.department -ne "Engineering"', False),
        ('user.department -startsWith "Eng" or user.city -eq "Oslo"', True),
        ('not (user.department -contains "gin")', False),
        ("user.city -eq null", True),
        ('(user.department -eq "Sales") -or (user.accountEnabled -eq true)', True),
    ],
)
def test_rules(rule: str, expected: bool) -> None:
    assert compile_rule(rule)(ADA) is expected


@pytest.mark.parametrize(
    "rule", ['user.department -match "E.*"', '(user.department -eq "x"', "device.x -eq 1"]
)
def test_unsupported_rules(rule: str) -> None:
    with pytest.raises(RuleError):
        compile_rule(rule)
