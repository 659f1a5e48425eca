"""Enumerations shared by every layer. Their string values are stored in SQLite and audit rows."""

from __future__ import annotations

from enum import StrEnum


class Platform(StrEnum):
    INSTAGRAM = "instagram"
    TIKTOK = "tiktok"
    YOUTUBE = "youtube"


class DeliverableType(StrEnum):
    INSTAGRAM_POST = "instagram_post"
    INSTAGRAM_STORY = "instagram_story"
    INSTAGRAM_REEL = "instagram_reel"
    TIKTOK_VIDEO = "tiktok_video"
    TIKTOK_STORY = "tiktok_story"
    YOUTUBE_DEDICATED = "youtube_dedicated"
    YOUTUBE_INTEGRATION = "youtube_integration"
    YOUTUBE_SHORT = "youtube_short"
    UGC_VIDEO = "ugc_video"

    @property
    def label(self) -> str:
        """Human form of the type, as written in emails ("Instagram Reel")."""
        words = self.value.replace("tiktok", "TikTok").replace("youtube", "YouTube").split("_")
        return " ".join(w if w[0].isupper() else w.capitalize() for w in words)


PLATFORM_DELIVERABLES: dict[Platform, frozenset[DeliverableType]] = {
    Platform.INSTAGRAM: frozenset(
        {
            DeliverableType.INSTAGRAM_POST,
            DeliverableType.INSTAGRAM_STORY,
            DeliverableType.INSTAGRAM_REEL,
        }
    ),
    Platform.TIKTOK: frozenset({DeliverableType.TIKTOK_VIDEO, DeliverableType.TIKTOK_STORY}),
    Platform.YOUTUBE: frozenset(
        {
            DeliverableType.YOUTUBE_DEDICATED,
            DeliverableType.YOUTUBE_INTEGRATION,
            DeliverableType.YOUTUBE_SHORT,
        }
    ),
}


class OptimizeFor(StrEnum):
    CPM = "cpm"
    CONTENT_VOLUME = "content_volume"
    BALANCE = "balance"


class UsageRightsDuration(StrEnum):
    """Ordered from least to most: compare with `.rank`."""

    NOT_REQUIRED = "not required"
    DAYS_30 = "30 days"
    DAYS_60 = "60 days"
    DAYS_90 = "90 days"
    MONTHS_6 = "6 months"
    YEAR_1 = "1 year"
    PERPETUAL = "perpetual"

    @property
    def rank(self) -> int:
        return _USAGE_RANKS[self]


_USAGE_RANKS: dict[UsageRightsDuration, int] = {d: i for i, d in enumerate(UsageRightsDuration)}


class NegotiationState(StrEnum):
    INITIAL_OFFER = "initial_offer"
    AWAITING_REPLY = "awaiting_reply"
    COUNTER_RECEIVED = "counter_received"
    COUNTER_SENT = "counter_sent"
    AGREED = "agreed"
    REJECTED = "rejected"
    ESCALATED = "escalated"
    STALE = "stale"
    PAUSED = "paused"
    STOPPED = "stopped"


TERMINAL_STATES: frozenset[NegotiationState] = frozenset(
    {NegotiationState.AGREED, NegotiationState.REJECTED, NegotiationState.STOPPED}
)


class NegotiationEvent(StrEnum):
    SEND_OFFER = "send_offer"
    RECEIVE_REPLY = "receive_reply"
    SEND_COUNTER = "send_counter"
    ACCEPT = "accept"
    REJECT = "reject"
    ESCALATE = "escalate"
    TIMEOUT = "timeout"
    RESUME_COUNTER = "resume_counter"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"


class Intent(StrEnum):
    ACCEPT = "accept"
    COUNTER = "counter"
    REJECT = "reject"
    QUESTION = "question"
    UNCLEAR = "unclear"


class CounterpartyType(StrEnum):
    DIRECT_INFLUENCER = "direct_influencer"
    TALENT_MANAGER = "talent_manager"


class ApprovalMode(StrEnum):
    """How much of the agent's mail a person sees before it goes out, per campaign."""

    AUTONOMOUS = "autonomous"  # the agent sends everything itself
    APPROVE_AGREEMENTS = "approve_agreements"  # the agreement email waits for a person
    REVIEW_EVERY_EMAIL = "review_every_email"  # every email the agent writes waits


class EventType(StrEnum):
    """Audit trail event types. Their values are stored in audit rows: renaming one orphans
    history, so they only ever grow."""

    EMAIL_SENT = "email_sent"
    EMAIL_RECEIVED = "email_received"
    STATE_TRANSITION = "state_transition"
    ESCALATION = "escalation"
    AGREEMENT = "agreement"
    TAKEOVER = "takeover"
    CAMPAIGN_START = "campaign_start"
    CAMPAIGN_INFLUENCER_SKIP = "campaign_influencer_skip"
    ERROR = "error"
