"""Handled uids above the mail cursor, on both engines: written with a message's transaction,
read back by range, forgotten once the cursor passes them or the mailbox is rebuilt."""

from __future__ import annotations

from negotiation_pipeline.store import NegotiationStore


def test_handled_uids_round_trip_per_mailbox_and_uidvalidity(store: NegotiationStore) -> None:
    cursors = store.mail_cursors
    cursors.mark_handled("INBOX", 7, [3, 5, 9])
    cursors.mark_handled("INBOX", 7, [5])  # a second record of one uid is no error
    cursors.mark_handled("INBOX", 8, [4])
    cursors.mark_handled("Archive", 7, [4])

    assert cursors.handled_among("INBOX", 7, range(1, 10)) == {3, 5, 9}
    assert cursors.handled_among("INBOX", 7, [4, 5]) == {5}
    assert cursors.handled_among("INBOX", 8, range(1, 10)) == {4}
    assert cursors.handled_among("INBOX", 7, []) == frozenset()


def test_a_record_rolls_back_with_its_transaction(store: NegotiationStore) -> None:
    class Boom(RuntimeError):
        pass

    try:
        with store.transaction(exclusive=False) as uow:
            uow.mail_cursors.mark_handled("INBOX", 7, [1])
            raise Boom
    except Boom:
        pass

    assert store.mail_cursors.handled_among("INBOX", 7, [1]) == frozenset()


def test_records_the_cursor_passed_and_of_an_old_uidvalidity_are_forgotten(
    store: NegotiationStore,
) -> None:
    cursors = store.mail_cursors
    cursors.mark_handled("INBOX", 7, [1, 2, 3, 6])
    cursors.mark_handled("INBOX", 6, [10])
    cursors.mark_handled("Archive", 7, [1])

    assert cursors.forget_handled_through("INBOX", 7, 3) == 4

    assert cursors.handled_among("INBOX", 7, range(1, 10)) == {6}
    assert cursors.handled_among("INBOX", 6, [10]) == frozenset()
    assert cursors.handled_among("Archive", 7, [1]) == {1}  # another mailbox: untouched
