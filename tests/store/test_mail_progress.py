"""Uids above the mail cursor, on both engines: noted with their sender when fetched, marked
handled with a message's transaction, read back by range, forgotten once the cursor passes them
or the mailbox is rebuilt."""

from __future__ import annotations

from negotiation_pipeline.store import MailUid, NegotiationStore


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


def test_a_noted_sender_stays_with_its_uid_once_handled_and_handled_stays_handled(
    store: NegotiationStore,
) -> None:
    cursors = store.mail_cursors
    cursors.note_senders("INBOX", 7, {1: "jane@gmail.com", 2: "sam@gmail.com"})
    cursors.mark_handled("INBOX", 7, [1, 3])
    cursors.note_senders("INBOX", 7, {3: "ben@gmail.com"})  # fetched again by a slower run

    assert cursors.uids_between("INBOX", 7, 1, 9) == {
        1: MailUid(1, "jane@gmail.com", True),
        2: MailUid(2, "sam@gmail.com", False),
        3: MailUid(3, "ben@gmail.com", True),
    }
    assert cursors.uids_between("INBOX", 7, 2, 2) == {2: MailUid(2, "sam@gmail.com", False)}
    assert cursors.handled_among("INBOX", 7, [1, 2, 3]) == {1, 3}


def test_many_uids_are_noted_in_one_call(store: NegotiationStore) -> None:
    senders = {uid: f"p{uid % 7}@gmail.com" for uid in range(1, 251)}
    store.mail_cursors.note_senders("INBOX", 7, senders)

    found = store.mail_cursors.uids_between("INBOX", 7, 1, 250)
    assert {uid: row.sender_key for uid, row in found.items()} == senders
