"""The Minimum Income Guarantee band of a person at home, where their age and household decide it.

Care and Support (Charging and Assessment of Resources) Regulations 2014, reg. 7 (as amended; each year's amounts
are in that year's LAC(DHSC)): a single person aged 18 to 24, aged 25 to pension credit qualifying age, or who has
attained that age (7(2)); a lone parent aged 18 or over (7(3)); each member of a couple, at the higher amount where
one or both have attained pension credit qualifying age (7(4)).

Pension credit qualifying age is state pension age (State Pension Credit Act 2002, s. 1(6)). It is 66 for everyone
born from 6 October 1954 to 5 April 1960 (Pensions Act 2011, s. 1), so from 6 October 2020 everyone aged 66 or over
has reached it. Pensions Act 2014, s. 26 raises it to 67: between 66 and 67, by date of birth, for people born from
6 April 1960 to 5 March 1961, and 67 for those born later; so from 6 April 2026 to 4 March 2028 whether a
66-year-old has reached it depends on their date of birth, which an age in whole years cannot tell (on 5 March 2028
the last of them turns 67). From then every 66-year-old's pension age is 67, until the rise to 68 (Pensions Act
2007, s. 13) reaches its first people on 6 April 2044. On a day outside 6 October 2020 to 5 April 2044, or at an age
these rules cannot place, the case must name its band.
"""

from __future__ import annotations

from datetime import date, timedelta

from ledger.errors import InvalidInput
from ledger.rules.params import MigBand

SIXTY_SIX_FOR_ALL = date(2020, 10, 6)  # the last rise to 66 complete: every 66-year-old has reached it
RISE_TO_67 = (date(2026, 4, 6), date(2028, 3, 4))  # days on which a 66-year-old may or may not have reached it
RISE_TO_68 = date(2044, 4, 6)  # the first 67-year-olds whose state pension age is above 67
_NAME_IT = "say finances.mig_band (--mig-band)"


def reached_pension_credit_age(age: int, on: date) -> bool | None:
    """Whether someone aged `age` (whole years) on `on` has attained pension credit qualifying age; None where
    their date of birth decides it, or on a day these rules do not cover."""
    if not SIXTY_SIX_FOR_ALL <= on < RISE_TO_68:
        return None
    if on < RISE_TO_67[0]:
        return age >= 66
    if on <= RISE_TO_67[1] and age == 66:
        return None
    return age >= 67


def _undecided(on: date) -> str:
    """Why an age alone does not say, on `on`."""
    if SIXTY_SIX_FOR_ALL <= on < RISE_TO_68:
        return "depends on their date of birth (Pensions Act 2014, s. 26)"
    return (f"is placed by age alone only from {SIXTY_SIX_FOR_ALL} to {RISE_TO_68 - timedelta(days=1)}, while "
            "state pension age is 66 or rising to 67")


def mig_band_for(age: int, on: date, *, couple: bool, children: int) -> MigBand:
    """The band reg. 7 gives someone aged `age` on `on` (a member of a couple or not, with `children` they are
    responsible for and live with); a refusal naming what is missing where age and household do not decide it."""
    if age < 18:
        raise InvalidInput(f"the Minimum Income Guarantee's bands begin at 18 (reg. 7), and the person is {age}: "
                           f"{_NAME_IT}", field="finances.mig_band")
    reached = reached_pension_credit_age(age, on)
    if reached is None:
        raise InvalidInput(f"whether someone aged {age} on {on} has attained pension credit qualifying age "
                           f"{_undecided(on)}: {_NAME_IT}", field="finances.mig_band", age=age, on=on.isoformat())
    if couple:
        if reached:
            return MigBand.COUPLE_PENSION_AGE_EACH
        raise InvalidInput(f"a member of a couple under pension credit qualifying age: the band turns on whether "
                           f"their partner has attained it (reg. 7(4)): {_NAME_IT}, couple_18_plus_each or "
                           f"couple_pension_age_each", field="finances.mig_band")
    if reached:
        return MigBand.SINGLE_PENSION_AGE
    if children:
        return MigBand.LONE_PARENT_18_PLUS
    return MigBand.SINGLE_18_24 if age <= 24 else MigBand.SINGLE_25_TO_PENSION_AGE
