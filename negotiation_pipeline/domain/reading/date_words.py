"""Words that out-of-office notices use for dates and absences, in the languages we read.

Everything here is lower-case and accent-free, because the text is folded the same way before it
is matched (`fold`): "März", "décembre" and "miércoles" are matched as "marz", "decembre",
"miercoles". Abbreviations that are also everyday words in English ("sat", "sun", "wed", "out",
"set", "ago") are left out: a notice is matched against these words only near a return or
until cue, but a wrong month there would still move a follow-up to the wrong day.
"""

from __future__ import annotations

import re

_ACCENTS = str.maketrans(
    "àáâãäåçèéêëìíîïñòóôõöùúûüýÿ’‘´`\u00a0\u2009\u202f",
    "aaaaaaceeeeiiiinooooouuuuyy''''   ",
)


def fold(text: str) -> str:
    """Lower-case, accents and typographic apostrophes removed, odd spaces made plain."""
    return text.lower().translate(_ACCENTS)


MONTHS: dict[str, int] = {
    word: number
    for number, words in {
        1: "january jan januar janner janvier janv enero ene janeiro gennaio gen januari",
        2: "february feb febr februar fevrier fevr fev febrero fevereiro febbraio februari",
        3: "march mar marz maerz mars marzo marco maart mrt",
        4: "april apr avril avr abril abr aprile",
        5: "may mai mayo maio maggio mag mei",
        6: "june jun juni juin junio junho giugno giu",
        7: "july jul juli juillet juil julio julho luglio lug",
        8: "august aug aout agosto augustus",
        9: "september sep sept septembre septiembre setiembre setembro settembre",
        10: "october oct oktober okt octobre octubre outubro ottobre ott",
        11: "november nov novembre noviembre novembro",
        12: "december dec dezember dez decembre diciembre dic dezembro dicembre",
    }.items()
    for word in words.split()
}

# Full names only (plus "tues"/"thurs"): "sat", "sun" and "wed" are English words.
WEEKDAYS: dict[str, int] = {
    word: number
    for number, words in {
        0: "monday montag lundi lunes segunda-feira segunda lunedi maandag",
        1: "tuesday tues dienstag mardi martes terca-feira terca martedi dinsdag",
        2: "wednesday mittwoch mercredi miercoles quarta-feira quarta mercoledi woensdag",
        3: "thursday thurs donnerstag jeudi jueves quinta-feira quinta giovedi donderdag",
        4: "friday freitag vendredi viernes sexta-feira sexta venerdi vrijdag",
        5: "saturday samstag sonnabend samedi sabado sabato zaterdag",
        6: "sunday sonntag dimanche domingo domenica zondag",
    }.items()
    for word in words.split()
}

# Days after the notice's date: "back tomorrow", "ab übermorgen wieder da".
RELATIVE_DAYS: dict[str, int] = {
    "day after tomorrow": 2,
    "ubermorgen": 2,
    "apres-demain": 2,
    "apres demain": 2,
    "pasado manana": 2,
    "depois de amanha": 2,
    "dopodomani": 2,
    "overmorgen": 2,
    "tomorrow": 1,
    "morgen": 1,
    "demain": 1,
    "manana": 1,
    "amanha": 1,
    "domani": 1,
}

# "I'll be back on …", "zurück am …", "de retour le …": the date named is the first day back.
RETURN_CUES: tuple[str, ...] = (
    r"back",
    r"return(?:ing|s)?",
    r"(?:be |am |i'm )?in the office",
    r"available",
    r"reachable",
    r"resum(?:e|ing)",
    r"zuruck",
    r"wieder",
    r"ruckkehr",
    r"de retour",
    r"retour",
    r"rentre(?:rai)?",
    r"reprendrai",
    r"disponible",
    r"joignable",
    r"de vuelta",
    r"vuelvo",
    r"volvere",
    r"regres(?:o|are|a)",
    r"reincorporo",
    r"de volta",
    r"volto",
    r"voltarei",
    r"retorn(?:o|arei)",
    r"disponivel",
    r"di ritorno",
    r"rientr(?:o|ero)",
    r"torn(?:o|ero)",
    r"disponibile",
    r"terug",
    r"bereikbaar",
    r"beschikbaar",
    r"戻",
    r"出社",
)

# "until …", "bis …", "jusqu'au …": the date named ends the absence.
UNTIL_CUES: tuple[str, ...] = (
    r"until",
    r"till",
    r"'?til",
    r"through",
    r"thru",
    r"up to and including",
    r"bis(?: zum| einschliesslich| einschl\.?| inkl\.?)?",
    r"jusqu' ?(?:au|a)",
    r"hasta(?: el)?",
    r"ate(?: o dia| ao dia| dia)?",
    r"fino (?:al|a)",
    r"sino al",
    r"tot en met",
    r"t/m",
    r"tot",
)

# A negation just before a return cue ("won't be back until", "nicht erreichbar bis"): the cue
# describes the absence, and the until cue after it carries the date.
NEGATION_BEFORE = re.compile(
    r"(?:\bnot|n't|\bno|\bnicht|\bkein\w*|\bpas|\bnao|\bnon|\bniet)(?:\W+[a-z]+){0,2}\W*$"
)

# How notices say the sender is away, for notices that carry no auto-reply header or subject.
ABSENCE_PHRASES = re.compile(
    r"\b(?:out of (?:the )?office|ooo\b|on (?:annual |parental |maternity |paternity |sick )?leave"
    r"|on (?:vacation|holiday|holidays|pto)\b|away from (?:the |my )?(?:office|desk|e-?mail|inbox)"
    r"|limited access to (?:my )?e-?mail|currently (?:away|travell?ing|out)"
    r"|abwesend|abwesenheit|nicht im buro|im urlaub|absente?\b|en conges|en vacances"
    r"|hors du bureau|fuera de la oficina|de vacaciones|ausente|fora do escritorio|de ferias"
    r"|fuori ufficio|in ferie|afwezig|met vakantie|niet op kantoor)"
)
