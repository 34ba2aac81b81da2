"""Securities margin accounts closed: now and then a client leaves the broker.

A client closes its account only with nothing outstanding and no margin call: its VA loans
are repaid, its securities loan settled and its securities moved out (a last position report
of zero), and its collateral returned, before the account is closed a little later. The
ledger would accept a closing with a debt left (it refuses only closing twice), but a broker
does not close an account that still carries a loan. Nothing is sent for the account after.
"""

from __future__ import annotations

from decimal import Decimal

from ops.simulate import broker
from ops.simulate.accounts import SimulatedClient
from ops.simulate.timeline import HOUR_MS, MINUTE_MS
from ops.simulate.world import World, text

# About a third of the clients a year: more than a broker's book loses, so that a few days
# of a few thousand clients show some closings (12 expected for 4,000 clients over 3 days).
CLOSINGS_PER_CLIENT_DAY = 0.001


def schedule(w: World) -> None:
    w.poisson(w.config.clients * CLOSINGS_PER_CLIENT_DAY, lambda: wind_down(w))


def _may_close(c: SimulatedClient) -> bool:
    return (c.account_open and c.mm_id is None and not c.short and c.open_call is None
            and not c.call_pending and not c.late_call and not c.late_resolution)


def wind_down(w: World) -> None:
    """A client with an account settles everything; the account is closed within hours."""
    candidates = [c for c in w.clients.values() if _may_close(c)]
    if not candidates:
        return
    c = w.rng.choice(candidates)
    c.borrows = False  # no more drawdowns, pledges, or injected breaches on it
    for loan_id in sorted(c.loans):
        w.emit("VAFinancingRepaid", {"loan_id": loan_id, "amount": text(c.loans[loan_id])}, broker.SOURCE)
    c.loans.clear()
    c.marginable = c.loan_balance = Decimal(0)
    broker.report(w, c)  # its debt is nil now: returning collateral cannot leave it short
    for pledge_id in sorted(c.pledges):
        w.emit("CollateralReleased", {"pledge_id": pledge_id, "quantity": text(c.pledges[pledge_id].quantity)},
               "custody")
    c.pledges.clear()
    w.refresh_broker(c)
    w.tl.after(w.between_ms(20 * MINUTE_MS, 3 * HOUR_MS), lambda: close(w, c))


def close(w: World, c: SimulatedClient) -> None:
    assert c.account_id is not None and c.account_open
    w.emit("SecuritiesMarginAccountClosed", {"client_id": c.client_id, "account_id": c.account_id}, broker.SOURCE)
    c.account_open = False
    w.refresh_broker(c)
