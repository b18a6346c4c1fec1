"""Words the demo data is made of: names, places, products and the sentences staff and customers write."""

from __future__ import annotations

import random
import unicodedata
from bisect import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import accumulate
from typing import Generic, TypeVar

from domain.crm.models import CaseChannel, CaseKind, InteractionKind, OpportunityStage, SalesChannel, Severity
from domain.customers.models import Segment, Tier
from domain.feedback.models import FeedbackChannel, Touchpoint
from domain.lists.defaults import default_codes
from domain.lists.models import ListKind

T = TypeVar("T")

REGIONS = ("north", "south", "east", "west", "central")
STORE_PLACES = ("High Street", "Station", "Retail Park")
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
EXTERNAL_SYSTEMS = (("crm", "CRM"), ("shop", "SHOP"), ("billing", "BIL"))
EXTRA_TAGS = ("early-adopter", "student", "paperless", "loyalty-app", "referral")
# Service dimensions and case categories are codes of the managed lists' default vocabulary.
DIMENSIONS = default_codes(ListKind.SERVICE_DIMENSION)
NOTICE_CHANNELS = ("email", "phone", "sms", "letter")


@dataclass(frozen=True, slots=True)
class Locale:
    """Names and address formats of one country; in patterns '#' is a digit and '@' a capital letter."""

    country: str
    given_names: tuple[str, ...]
    family_names: tuple[str, ...]
    cities: tuple[tuple[str, str], ...]
    streets: tuple[str, ...]
    number_first: bool
    phone: str


def _locale(
    country: str, given: str, family: str, cities: str, streets: str, number_first: bool, phone: str
) -> Locale:
    pairs = (entry.split("=") for entry in cities.split(";"))
    return Locale(
        country,
        tuple(given.split(",")),
        tuple(family.split(",")),
        tuple((city, code) for city, code in pairs),
        tuple(streets.split(",")),
        number_first,
        phone,
    )


# Phone patterns use ranges reserved for fiction where the country has one (GB, US, FR, DE, SE).
LOCALES = (
    _locale(
        "GB",
        "Oliver,Amelia,Siobhán,Rhys,Eleanor,George,Isla,Niamh,Zoë,Harry",
        "Smith,O'Brien,Taylor,Evans,Hughes,Wright,Davies,MacLeod,Patel,Ó Súilleabháin",
        "London=SE1 #@@;Manchester=M# #@@;Leeds=LS# #@@;Bristol=BS# #@@;Edinburgh=EH# #@@",
        "High Street,Station Road,Church Lane,Victoria Road,Mill Lane",
        True,
        "+44 7700 900###",
    ),
    _locale(
        "US",
        "James,Emma,Noah,Olivia,Aaliyah,Mateo,Chloe,Ethan,Grace,Andrés",
        "Johnson,Williams,Brown,Nguyen,Rodríguez,Kim,Patel,Washington,Miller,Cohen",
        "Boston=021##;Chicago=606##;Denver=802##;Seattle=981##;Austin=787##",
        "Oak Street,Maple Avenue,Main Street,Cedar Lane,Park Avenue",
        True,
        "+1 202 555 01##",
    ),
    _locale(
        "DE",
        "Jürgen,Lena,Lukas,Anna,Felix,Mia,Jörg,Käthe,Zoë,Björn",
        "Müller,Schäfer,Weiß,Groß,Köhler,Fischer,Becker,Hoffmann,Schröder,Krüger",
        "Berlin=10###;München=80###;Köln=50###;Hamburg=20###;Leipzig=04###",
        "Hauptstraße,Bahnhofstraße,Gartenweg,Schillerstraße,Lindenallee",
        False,
        "+49 30 23125 ###",
    ),
    _locale(
        "FR",
        "Chloé,Élodie,Hélène,François,Jérôme,Léa,Théo,Noémie,Loïc,Anaïs",
        "Lefèvre,Dubois,Moreau,Girard,Bérard,Rousseau,Fontaine,Chevalier,Lemaître,Faure",
        "Paris=75###;Lyon=69###;Marseille=13###;Lille=59###;Nantes=44###",
        "rue de la Paix,avenue Victor Hugo,rue Pasteur,boulevard Voltaire,rue des Écoles",
        True,
        "+33 1 99 00 ## ##",
    ),
    _locale(
        "ES",
        "María,José,Lucía,Álvaro,Sofía,Martín,Inés,Raúl,Begoña,Iñigo",
        "García,Fernández,López,Martínez,Sánchez,Gómez,Núñez,Pérez,Ibáñez,Muñoz",
        "Madrid=28###;Barcelona=08###;Sevilla=41###;Valencia=46###;Málaga=29###",
        "Calle Mayor,Avenida de la Constitución,Calle del Sol,Plaza España,Calle Real",
        False,
        "+34 600 000 ###",
    ),
    _locale(
        "IT",
        "Giulia,Niccolò,Francesca,Lorenzo,Chiara,Mattia,Elisa,Gianluca,Aurora,Nicolò",
        "Rossi,Bianchi,Ricci,Colombo,Esposito,Romano,De Luca,Conti,Galli,Mancini",
        "Roma=001##;Milano=201##;Napoli=801##;Torino=101##;Bologna=401##",
        "Via Roma,Via Garibaldi,Corso Italia,Via Dante,Piazza del Popolo",
        False,
        "+39 312 000 0###",
    ),
    _locale(
        "NL",
        "Zoë,Daan,Sanne,Bram,Fleur,Thijs,Anouk,Sem,Noë,Lotte",
        "de Vries,Jansen,van Dijk,Bakker,Visser,Smit,van den Berg,Mulder,de Jong,Dekker",
        "Amsterdam=10## @@;Utrecht=35## @@;Rotterdam=30## @@;Den Haag=25## @@;Groningen=97## @@",
        "Kerkstraat,Dorpsstraat,Stationsweg,Molenweg,Schoolstraat",
        False,
        "+31 6 0000 0###",
    ),
    _locale(
        "SE",
        "Åsa,Linnéa,Björn,Märta,Oskar,Elin,Göran,Ida,Måns,Saga",
        "Andersson,Sjöberg,Åkesson,Lindqvist,Strömberg,Nyström,Öberg,Karlsson,Ekström,Holm",
        "Stockholm=11# ##;Göteborg=41# ##;Malmö=21# ##;Uppsala=75# ##;Umeå=90# ##",
        "Storgatan,Drottninggatan,Kungsgatan,Skolgatan,Järnvägsgatan",
        False,
        "+46 70 17 40 6##",
    ),
    _locale(
        "NO",
        "Søren,Åse,Ingrid,Bjørn,Øystein,Kari,Sigrid,Håkon,Solveig,Ørjan",
        "Ødegaard,Hansen,Johansen,Bråten,Solberg,Løvås,Haugen,Bakke,Sæther,Strøm",
        "Oslo=0###;Bergen=50##;Trondheim=70##;Stavanger=40##;Tromsø=90##",
        "Storgata,Kirkegata,Skolegata,Bryggen,Fjordveien",
        False,
        "+47 400 00 ###",
    ),
    _locale(
        "PL",
        "Łukasz,Zofia,Małgorzata,Paweł,Wojciech,Agnieszka,Jędrzej,Ewa,Michał,Zuzanna",
        "Nowak,Wójcik,Kowalczyk,Mazur,Krawczyk,Kaczmarek,Zając,Król,Wróbel,Dudek",
        "Warszawa=00-###;Kraków=30-###;Gdańsk=80-###;Łódź=90-###;Wrocław=50-###",
        "ulica Długa,ulica Kwiatowa,ulica Polna,ulica Słoneczna,aleja Lipowa",
        False,
        "+48 500 000 ###",
    ),
)
LOCALE_WEIGHTS = (16, 8, 16, 12, 12, 8, 8, 7, 6, 7)

_SPELLED = str.maketrans(
    {"ø": "o", "æ": "ae", "ß": "ss", "ł": "l", "đ": "d", "œ": "oe", "'": "", " ": "", "-": ""}
)


@cache
def mail_word(name: str) -> str:
    """``name`` as a lower-case ASCII word for an e-mail address ("Ødegaard" -> "odegaard")."""
    decomposed = unicodedata.normalize("NFKD", name.casefold().translate(_SPELLED))
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalpha())


# Products: sku, name, unit price in cents.
PRODUCTS = (
    ("HOME-1001", "Espresso machine", 34900),
    ("HOME-1002", "Electric kettle", 3999),
    ("HOME-1003", "Coffee beans 1 kg", 1890),
    ("HOME-1004", "Toaster", 4490),
    ("HOME-1005", "Blender", 7990),
    ("HOME-1006", "Cast-iron pan", 5900),
    ("TECH-2001", "Noise-cancelling headphones", 24900),
    ("TECH-2002", "Smartphone", 69900),
    ("TECH-2003", "Phone case", 1999),
    ("TECH-2004", "USB-C charger", 2499),
    ("TECH-2005", "Laptop", 119900),
    ("TECH-2006", "Wireless mouse", 2999),
    ("TECH-2007", "Smart speaker", 9900),
    ("TECH-2008", "Tablet", 44900),
    ("LIFE-3001", "Running shoes", 11900),
    ("LIFE-3002", "Rain jacket", 8900),
    ("LIFE-3003", "Backpack", 6490),
    ("LIFE-3004", "Water bottle", 1590),
    ("SERV-4001", "Extended warranty", 4900),
    ("SERV-4002", "Installation service", 7900),
    ("SERV-4003", "Express delivery", 990),
    ("SERV-4004", "Gift wrapping", 350),
    ("SERV-4005", "Annual care plan", 14900),
    ("SERV-4006", "Data transfer service", 2900),
)

INTERACTION_CHANNELS = {
    "CALL": ("phone",),
    "EMAIL": ("email",),
    "MEETING": ("in person", "video call"),
    "CHAT": ("web chat", "app chat"),
    "VISIT": ("store",),
    "SOCIAL": ("twitter", "instagram", "facebook"),
}
SUMMARIES = {
    "CALL": (
        "Called about a delayed order.",
        "Discussed the renewal of the care plan.",
        "Customer asked how to change the delivery address.",
        "Explained the latest invoice.",
    ),
    "EMAIL": (
        "Sent the requested invoice copy.",
        "Answered a question about warranty terms.",
        "Customer e-mailed photos of a damaged item.",
        "Shared the new product catalogue.",
    ),
    "MEETING": (
        "Quarterly account review.",
        "Presented the business bundle.",
        "Walked through the onboarding plan.",
        "Negotiated volume pricing.",
    ),
    "CHAT": (
        "Helped reset the account password.",
        "Tracked a parcel in chat.",
        "Customer asked about store opening hours.",
        "Explained the return process.",
    ),
    "VISIT": (
        "Customer came in to return a product.",
        "Demonstrated the new espresso machine.",
        "Set up the customer's new phone in store.",
        "Customer collected a click-and-collect order.",
    ),
    "SOCIAL": (
        "Replied to a public complaint about delivery times.",
        "Thanked the customer for a review.",
        "Moved a social media question to private messages.",
        "Answered a question about a promotion.",
    ),
}
NEXT_STEPS = (
    "Call back with the refund status.",
    "Send a written quote.",
    "Check stock at the regional warehouse.",
    "Arrange a technician visit.",
    "Follow up on satisfaction after the repair.",
    "Offer the loyalty upgrade.",
    "Confirm the new delivery date.",
    "Escalate to the regional manager.",
)
_SUBJECTS = {
    "billing": ("Charged twice for one order", "Invoice address is wrong", "Refund not received"),
    "delivery": ("Parcel arrived late", "Parcel lost in transit", "Delivery slot missed"),
    "product-quality": ("Item broke after a week", "Product does not match description", "Screen flickers"),
    "staff": ("Unfriendly service in store", "Staff member was very helpful", "Waited too long at the till"),
    "website": ("Checkout fails with an error", "Cannot log in", "Voucher code not accepted"),
    "returns": ("How to return a gift", "Return label missing", "Exchange for a different size"),
    "account": ("Change of e-mail address", "Close my account", "Update consent preferences"),
}
# Case subjects by category code, in the list's order; a default category without subjects fails here.
CASE_SUBJECTS = {code: _SUBJECTS[code] for code in default_codes(ListKind.CASE_CATEGORY)}
CASE_NOTES = ("Picked up by the team.", "Waiting for the warehouse.", "Customer contacted for details.")
RESOLUTIONS = (
    "Refunded the full amount.",
    "Sent a replacement item.",
    "Corrected the invoice and apologised.",
    "Rebooked the delivery with express shipping.",
    "Explained the policy; customer satisfied.",
    "Fixed the account settings.",
    "Issued a voucher as a goodwill gesture.",
    "Repaired under warranty.",
)
OPPORTUNITY_TITLES = {
    "MASS": ("Care plan upgrade", "Smartphone trade-in", "Loyalty membership"),
    "AFFLUENT": ("Premium home bundle", "Annual care plan", "Personal shopping service"),
    "SMALL_BUSINESS": ("Office equipment refresh", "Business care plan", "Coffee machine lease"),
    "CORPORATE": ("Fleet laptop rollout", "Framework agreement", "Managed device service"),
}

POSITIVE = {
    Touchpoint.STORE_VISIT: ("Staff were friendly and knew the products well.", "Quick and pleasant visit."),
    Touchpoint.ONLINE_ORDER: ("Ordering was easy and fast.", "Great website, found everything at once."),
    Touchpoint.DELIVERY: ("Delivered a day early, thank you!", "The driver was very careful."),
    Touchpoint.SUPPORT_CALL: (
        "The agent solved my problem in minutes.",
        "Very competent and patient support.",
    ),
    Touchpoint.BILLING: ("Clear invoice, no surprises.", "Refund arrived quickly."),
    Touchpoint.ONBOARDING: ("Setup was painless.", "The welcome call was really helpful."),
}
NEGATIVE = {
    Touchpoint.STORE_VISIT: ("Nobody helped me, I left without buying.", "Long queue and rude staff."),
    Touchpoint.ONLINE_ORDER: ("Checkout kept failing.", "The voucher did not work and nobody cared."),
    Touchpoint.DELIVERY: ("Parcel arrived a week late and damaged.", "Missed delivery, no notice."),
    Touchpoint.SUPPORT_CALL: ("Waited 40 minutes and was cut off.", "I had to explain my issue three times."),
    Touchpoint.BILLING: (
        "I was charged twice and still wait for my money.",
        "The invoice is impossible to read.",
    ),
    Touchpoint.ONBOARDING: ("Activation took weeks.", "Nobody explained how anything works."),
}
NEUTRAL = ("It was okay.", "Fine, nothing special.", "Good, but could be faster.", "Average experience.")


class Weighted(Generic[T]):
    """A weighted choice with its cumulative weights computed once."""

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        self.values = [value for value, _ in pairs]
        self.cumulative = list(accumulate(weight for _, weight in pairs))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random) -> T:
        return self.values[bisect(self.cumulative, rng.random() * self.total)]


# How often each value occurs: mostly mass-market bronze customers, few corporate or platinum ones.
SEGMENTS = Weighted(
    [(Segment.MASS, 60), (Segment.AFFLUENT, 22), (Segment.SMALL_BUSINESS, 13), (Segment.CORPORATE, 5)]
)
TIERS = Weighted([(Tier.BRONZE, 55), (Tier.SILVER, 28), (Tier.GOLD, 13), (Tier.PLATINUM, 4)])
COUNTRIES = Weighted(list(zip(LOCALES, LOCALE_WEIGHTS, strict=True)))
# The NPS a customer tends to give: delighted, content, lukewarm, unhappy.
MOODS = Weighted([(9.4, 15), (8.2, 55), (6.5, 20), (2.8, 10)])
SALES_CHANNELS = Weighted(
    [(SalesChannel.STORE, 40), (SalesChannel.ONLINE, 35), (SalesChannel.APP, 20), (SalesChannel.PHONE, 5)]
)
LINE_COUNTS = Weighted([(1, 45), (2, 25), (3, 15), (4, 10), (5, 5)])
INTERACTION_KINDS = Weighted(
    [
        (InteractionKind.CALL, 30),
        (InteractionKind.EMAIL, 25),
        (InteractionKind.CHAT, 15),
        (InteractionKind.VISIT, 15),
        (InteractionKind.MEETING, 8),
        (InteractionKind.SOCIAL, 7),
    ]
)
INBOUND_SHARE = {
    InteractionKind.CALL: 0.6,
    InteractionKind.EMAIL: 0.5,
    InteractionKind.MEETING: 0.2,
    InteractionKind.CHAT: 0.95,
    InteractionKind.VISIT: 0.95,
    InteractionKind.SOCIAL: 0.8,
}
CASE_KINDS = Weighted([(CaseKind.COMPLAINT, 35), (CaseKind.REQUEST, 40), (CaseKind.QUESTION, 25)])
CASE_CHANNELS = Weighted(
    [
        (CaseChannel.PHONE, 30),
        (CaseChannel.EMAIL, 22),
        (CaseChannel.WEB, 15),
        (CaseChannel.IN_PERSON, 12),
        (CaseChannel.APP, 10),
        (CaseChannel.SOCIAL, 7),
        (CaseChannel.MAIL, 4),
    ]
)
SEVERITIES = Weighted(
    [(Severity.LOW, 45), (Severity.MEDIUM, 35), (Severity.HIGH, 15), (Severity.CRITICAL, 5)]
)
SLA_HOURS = {Severity.LOW: 168, Severity.MEDIUM: 72, Severity.HIGH: 24, Severity.CRITICAL: 4}
STAGES = Weighted(
    [
        (OpportunityStage.PROSPECTING, 20),
        (OpportunityStage.QUALIFICATION, 18),
        (OpportunityStage.PROPOSAL, 15),
        (OpportunityStage.NEGOTIATION, 10),
        (OpportunityStage.WON, 22),
        (OpportunityStage.LOST, 15),
    ]
)
PROBABILITIES = {
    OpportunityStage.PROSPECTING: (5, 15),
    OpportunityStage.QUALIFICATION: (20, 30),
    OpportunityStage.PROPOSAL: (40, 60),
    OpportunityStage.NEGOTIATION: (65, 85),
    OpportunityStage.WON: (100, 100),
    OpportunityStage.LOST: (0, 0),
}
TOUCHPOINTS = Weighted(
    [
        (Touchpoint.STORE_VISIT, 30),
        (Touchpoint.ONLINE_ORDER, 22),
        (Touchpoint.DELIVERY, 18),
        (Touchpoint.SUPPORT_CALL, 14),
        (Touchpoint.BILLING, 8),
        (Touchpoint.ONBOARDING, 8),
    ]
)
_C = FeedbackChannel
FEEDBACK_CHANNELS = {
    Touchpoint.STORE_VISIT: (_C.POS, _C.POS, _C.KIOSK, _C.IN_PERSON, _C.SMS, _C.APP),
    Touchpoint.ONLINE_ORDER: (_C.WEB, _C.WEB, _C.APP, _C.EMAIL),
    Touchpoint.DELIVERY: (_C.SMS, _C.EMAIL, _C.APP, _C.WEB),
    Touchpoint.SUPPORT_CALL: (_C.PHONE, _C.PHONE, _C.SMS, _C.EMAIL),
    Touchpoint.BILLING: (_C.EMAIL, _C.WEB, _C.PHONE),
    Touchpoint.ONBOARDING: (_C.APP, _C.WEB, _C.IN_PERSON, _C.EMAIL),
}
# Smiley terminals ask one CSAT question only.
QUICK_CHANNELS = frozenset((_C.POS, _C.KIOSK))
# Seconds between the experience and the response arriving, by channel.
DELAYS = {
    _C.POS: (0, 300),
    _C.KIOSK: (0, 300),
    _C.IN_PERSON: (0, 900),
    _C.APP: (60, 6 * 3600),
    _C.WEB: (60, 6 * 3600),
    _C.SMS: (300, 12 * 3600),
    _C.EMAIL: (3600, 3 * 86400),
    _C.PHONE: (3600, 2 * 86400),
}
PURCHASE_TOUCHPOINTS = {
    SalesChannel.STORE: (Touchpoint.STORE_VISIT,),
    SalesChannel.ONLINE: (Touchpoint.ONLINE_ORDER, Touchpoint.DELIVERY),
    SalesChannel.APP: (Touchpoint.ONLINE_ORDER, Touchpoint.DELIVERY),
    SalesChannel.PHONE: (Touchpoint.SUPPORT_CALL,),
}
CONTACT_TOUCHPOINTS = {
    InteractionKind.CALL: Touchpoint.SUPPORT_CALL,
    InteractionKind.EMAIL: Touchpoint.SUPPORT_CALL,
    InteractionKind.MEETING: Touchpoint.ONBOARDING,
    InteractionKind.CHAT: Touchpoint.ONLINE_ORDER,
    InteractionKind.VISIT: Touchpoint.STORE_VISIT,
    InteractionKind.SOCIAL: Touchpoint.SUPPORT_CALL,
}
PHONE_COUNTS = Weighted([(0, 20), (1, 60), (2, 20)])
STORES = {
    region: tuple(f"{region.capitalize()} {place} store" for place in STORE_PLACES) for region in REGIONS
}
SALES_TOUCHPOINT_NAMES = {
    SalesChannel.ONLINE: "web shop",
    SalesChannel.APP: "mobile app",
    SalesChannel.PHONE: "phone sales",
}
