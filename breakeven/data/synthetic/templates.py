"""The support-email generator's data: products, seed situations and the phrase pools emails are written from.

Only constants live here; ``support_emails`` holds the logic that draws from them.
"""

from dataclasses import dataclass

CATEGORIES: tuple[str, ...] = ("billing", "technical", "account", "shipping", "other")
SENTIMENTS: tuple[str, ...] = ("positive", "neutral", "negative")
FIELDS: tuple[str, ...] = (
    "customer_name",
    "issue_category",
    "urgency",
    "primary_request",
    "mentioned_products",
    "sentiment",
)

HARDWARE: tuple[str, ...] = (
    "Nimbus Router X2",
    "Orbit Mesh Extender",
    "Aurora Smart Hub",
    "Halcyon Smart Thermostat",
    "Lumen Desk Lamp",
    "Pulse Fitness Band",
    "Vela Wireless Earbuds",
    "Kestrel Action Cam 4K",
)
SOFTWARE: tuple[str, ...] = (
    "CloudVault Pro",
    "SyncDesk Teams",
    "Ledgerly Invoicing",
    "PixelForge Studio",
    "ShieldNet VPN",
    "Tempo Calendar Plus",
    "Quill Notes Premium",
)
PRODUCTS: tuple[str, ...] = HARDWARE + SOFTWARE
POOLS: dict[str, tuple[str, ...]] = {"hw": HARDWARE, "sw": SOFTWARE, "any": PRODUCTS}

# Shares in percent, allocated exactly by largest remainder.
CATEGORY_SHARES = (22, 22, 22, 22, 12)
SENTIMENT_SHARES = (20, 45, 35)

P_NO_NAME = 0.12
P_INTRO = 0.3
P_TYPOS = 0.25
P_FORWARD = 0.11
P_REPLY = 0.09
P_ASIDE = 0.08
P_SUBJECT = 0.75
P_GREETING = 0.85
P_CONTEXT = 0.75
P_EXTRA = 0.6
P_FILLER = 0.5
CUE_ODDS = {"none": 45, "calm": 20, "deadline": 20, "critical": 15}


@dataclass(frozen=True)
class Situation:
    """A seed situation: one category and canonical request, phrased several ways."""

    sid: str
    request: str
    urgency: int
    kind: str  # product pool: "hw", "sw" or "any"
    weights: tuple[int, int, int]  # relative odds of naming 0, 1 or 2 products in the body
    generic: str  # stands in for {items} when no product is named
    subjects: tuple[str, ...]
    bodies: tuple[str, ...]
    suffix: str = ""  # follows the product names in {items}, e.g. " account"
    critical: tuple[str, ...] = ()  # situation-specific "urgent" cues

    @property
    def category(self) -> str:
        """The issue category, the part of ``sid`` before the slash."""
        return self.sid.split("/")[0]


SITUATIONS: tuple[Situation, ...] = (
    Situation(
        "billing/double_charge",
        "refund duplicate charge",
        3,
        "any",
        (3, 5, 2),
        "last order",
        ("Charged twice", "Duplicate payment on order {order}", "Double charge on my card"),
        (
            "I was charged twice for my {items}. My bank statement shows two payments of {amount} on {date}, "
            "but I only placed one order ({order}). Could you please refund the duplicate charge?",
            "Looking at my card statement, the same payment of {amount} was taken two times on {date} for my "
            "{items}. I only checked out once, so one of these is a duplicate. Please refund the second charge "
            "to my card ending in {last4}.",
            "Your checkout seems to have billed me twice. I bought my {items} once, yet {amount} left my account "
            "twice on {date}. I'd like the extra payment returned, please.",
            "There are two identical charges of {amount} from you on my statement dated {date}. Only one "
            "purchase was made (order {order}, my {items}). Can you reverse the extra one?",
        ),
    ),
    Situation(
        "billing/cancel_subscription",
        "cancel subscription",
        2,
        "sw",
        (3, 6, 1),
        "subscription",
        ("Cancel my subscription", "Cancellation request", "Please stop auto-renewal"),
        (
            "Please cancel my {items} at the end of the current billing period. I no longer need it and don't "
            "want to be charged again on {date}.",
            "I'd like to stop my {items}. Could you cancel it so that the next renewal of {amount} doesn't go "
            "through? I looked for a cancel button in the settings but couldn't find one.",
            "We've switched to a different tool internally, so we won't be renewing. Kindly cancel the {items} "
            "on our account and confirm in writing that there will be no further charges.",
            "I want to end my {items} before it renews next month. Please turn off auto-renewal and let me know "
            "once the cancellation has gone through.",
        ),
        suffix=" subscription",
    ),
    Situation(
        "billing/wrong_amount",
        "correct overcharged invoice",
        3,
        "any",
        (3, 5, 2),
        "order",
        ("Invoice amount is wrong", "Overcharged on invoice {invoice}", "Billing error"),
        (
            "Invoice {invoice} charges me {amount} for my {items}, but the price on your website when I ordered "
            "was {amount2}. Please correct the invoice and refund the difference.",
            "I think there's a mistake on my latest bill. I was quoted {amount2} for my {items}, yet I was "
            "charged {amount} on {date}. Can you fix the amount and credit the difference back?",
            "The total on invoice {invoice} is {amount}, which doesn't match the {amount2} I agreed to at "
            "checkout for my {items}. Could you look into the overcharge and send a corrected invoice?",
        ),
    ),
    Situation(
        "billing/update_payment_method",
        "update payment method",
        2,
        "sw",
        (5, 5, 0),
        "account",
        ("New card details", "Update payment method", "Card expired"),
        (
            "My card ending in {last4} has expired and I'd like to put a new one on my {items}. The website "
            "keeps giving me an error when I try to change it myself. How can I update my payment details?",
            "We're moving our company billing to a new credit card. Could you tell me how to replace the card "
            "ending in {last4} on our {items} before the next payment on {date}?",
            "I need to switch the payment method on my {items} from my credit card to PayPal. I couldn't find "
            "that option in the billing settings, so could you help me change it?",
        ),
        suffix=" account",
    ),
    Situation(
        "billing/request_invoice",
        "send invoice copy",
        2,
        "any",
        (4, 5, 1),
        "order",
        ("Invoice request for {order}", "Need a copy of my invoice", "VAT invoice"),
        (
            "Could you send me a copy of the invoice for my {items} (order {order})? Our accounting department "
            "needs it for the expense report and I can't find the original email.",
            "I need a proper VAT invoice for my purchase of the {items} on {date}. The receipt I got doesn't "
            "show our company details. Can you email me an invoice with them?",
            "Please resend the invoice for the {amount} charged on {date}. I seem to have deleted it by accident "
            "and need it for my records.",
        ),
    ),
    Situation(
        "billing/refund_status",
        "check refund status",
        3,
        "any",
        (3, 6, 1),
        "order",
        ("Where is my refund?", "Refund status for order {order}", "Refund not received"),
        (
            "I returned my {items} on {date} and was told the refund of {amount} would take five business days. "
            "It's now been {days} days and nothing has arrived. Could you check the status of my refund?",
            "Your team approved a refund of {amount} for order {order} a while ago, but I still don't see it on "
            "my card ending in {last4}. Can you tell me where the refund stands?",
            "Can you confirm whether the refund for my {items} has been processed? The return was delivered to "
            "your warehouse on {date} and I haven't heard anything since.",
        ),
    ),
    Situation(
        "billing/failed_payment",
        "fix failed payment",
        4,
        "sw",
        (3, 6, 1),
        "subscription",
        ("Payment declined", "Payment keeps failing", "Service suspended for non-payment?"),
        (
            "My renewal payment of {amount} for my {items} keeps getting declined, even though the card ending "
            "in {last4} works everywhere else. Now I'm getting warnings that the service will be suspended. "
            "Please help me get the payment through.",
            "I got an email saying the payment for my {items} failed on {date}. My bank says they didn't block "
            "anything. Can you retry the charge or tell me what's going wrong?",
            "Every time I try to pay the outstanding {amount} on my {items}, the checkout page says "
            "'transaction failed'. I don't want to lose access, so could you sort out the payment issue?",
        ),
        suffix=" subscription",
        critical=("Our store is down because the service was suspended, so this is urgent.",),
    ),
    Situation(
        "technical/no_power",
        "fix device not turning on",
        3,
        "hw",
        (1, 9, 0),
        "device",
        ("Device won't turn on", "Dead on arrival?", "No power"),
        (
            "My {items} won't turn on anymore. I charged it overnight and tried a different cable and outlet, "
            "but there are no lights at all. What else can I try before sending it back?",
            "Since this morning I can't get my {items} to power on. Holding the power button does nothing and "
            "the status light stays off. Can you help me get it working again?",
            "I've had my {items} for about {months} months and suddenly it's completely dead. No lights, no "
            "sound, nothing when I press the button. Is there a reset procedure or is it a hardware fault?",
        ),
    ),
    Situation(
        "technical/connection_drops",
        "fix connection drops",
        3,
        "hw",
        (1, 9, 0),
        "device",
        ("Connection keeps dropping", "Wi-Fi disconnects", "Unstable connection"),
        (
            "My {items} keeps dropping the Wi-Fi connection every hour or so. I have to unplug it and plug it "
            "back in to get it online again. Is there a setting or update that fixes this?",
            "For the past week my {items} has been disconnecting from the network several times a day. Other "
            "devices in the house stay connected fine. Could you help me troubleshoot the dropouts?",
            "The connection on my {items} is really unstable. It shows as connected, then goes offline for a few "
            "minutes, then comes back. I've already rebooted everything twice. What can I do to stop the drops?",
        ),
        critical=("Our shop's card terminals rely on this connection, so we're losing sales every hour.",),
    ),
    Situation(
        "technical/app_crash",
        "fix app crashing",
        3,
        "sw",
        (2, 8, 0),
        "app",
        ("App keeps crashing", "Crash on startup", "Can't open the app"),
        (
            "My {items} keeps crashing every time I open it on my phone. It shows the splash screen for a second "
            "and then closes. I've reinstalled it twice already. Can you help me fix this?",
            "Since the latest update on {date}, my {items} crashes whenever I try to open a file or change a "
            "setting. It was working perfectly before. Is there a fix coming or a workaround I can use?",
            "I can't use my {items} at all right now because it crashes within a minute of starting. This happens "
            "on both my laptop and my phone. Could you look into why it keeps crashing?",
        ),
        suffix=" app",
        critical=("Our store is down because we run all our orders through it.",),
    ),
    Situation(
        "technical/sync_failure",
        "fix data sync",
        3,
        "sw",
        (2, 6, 2),
        "data",
        ("Sync not working", "Changes not syncing between devices", "Data out of sync"),
        (
            "My {items} stopped syncing between my laptop and phone on {date}. Changes I make on one device never "
            "show up on the other. I've signed out and back in, but it didn't help. Can you get syncing working "
            "again?",
            "Since {date}, nothing I save in my {items} syncs to my other devices. The status icon just spins "
            "forever. Could you check whether something is wrong with my account or the sync service?",
            "We rely on our {items} to share work across the team, but syncing stopped a few days ago and "
            "everyone is seeing different versions. Please help us fix the sync.",
        ),
        critical=("Our whole team is blocked until this syncs again.",),
    ),
    Situation(
        "technical/firmware_update_failed",
        "recover from failed firmware update",
        4,
        "hw",
        (1, 9, 0),
        "device",
        ("Firmware update failed", "Stuck after update", "Device bricked after update?"),
        (
            "I started a firmware update on my {items} last night and it got stuck at 60%. Now it just shows a "
            "blinking orange light and won't respond. How do I recover it?",
            "The automatic firmware update on my {items} failed halfway through on {date}. Since then it won't "
            "boot past the logo. Is there a way to reinstall the firmware manually?",
            "After the update prompt on {date}, my {items} restarted and never came back. The app says 'update "
            "failed' and the device is unusable. Please tell me how to restore it.",
        ),
    ),
    Situation(
        "technical/setup_help",
        "help with initial setup",
        2,
        "hw",
        (1, 7, 2),
        "new device",
        ("Setup help", "Can't finish setup", "New device setup question"),
        (
            "I just bought my {items} and I'm stuck on the setup. The app can't find the device when it asks me "
            "to pair it. Could you walk me through the setup steps?",
            "Setting up my {items} is proving harder than expected. The quick start guide says to scan a QR code, "
            "but the code on the box won't scan. What's the right way to get it set up?",
            "I received my {items} on {date} and can't get past the first setup screen. It keeps asking for a "
            "setup code I don't have. Can you help me finish the initial setup?",
        ),
    ),
    Situation(
        "technical/error_code",
        "resolve error code",
        3,
        "sw",
        (2, 7, 1),
        "software",
        ("Error {code}", "Getting an error message", "What does error {code} mean?"),
        (
            "Whenever I try to export a report from my {items}, I get 'Error {code}: request could not be "
            "completed'. I can't find this code in your help pages. What does it mean and how do I fix it?",
            "I keep seeing error code {code} when I log in to my {items}. It started on {date} and happens in "
            "every browser I've tried. Can you tell me how to get rid of this error?",
            "My {items} shows the message 'Something went wrong ({code})' every time I save changes, and nothing "
            "gets saved. Could you help me resolve this error?",
        ),
    ),
    Situation(
        "account/reset_password",
        "reset password",
        3,
        "sw",
        (6, 4, 0),
        "account",
        ("Password reset", "Can't log in", "Forgot my password"),
        (
            "I forgot the password for my {items} and the reset link never arrives in my inbox. I've checked the "
            "spam folder too. Can you send me a new reset link or reset it for me?",
            "I can't remember my password and I need to get into my {items}. When I click 'forgot password', "
            "nothing happens. Could you help me reset it?",
            "Please help me reset the password on my {items}. The reset email I got on {date} says the link has "
            "expired, and requesting a new one doesn't seem to work.",
        ),
        suffix=" account",
    ),
    Situation(
        "account/locked_out",
        "unlock account",
        4,
        "sw",
        (5, 5, 0),
        "account",
        ("Account locked", "Locked out of my account", "Too many login attempts"),
        (
            "My {items} has been locked after too many login attempts, even though I'm sure I typed the right "
            "password. Could you unlock it for me?",
            "I'm locked out. The login page says my {items} is 'temporarily disabled' and to contact support. "
            "It's been like this since {date}. Please unlock my access.",
            "When I try to sign in to my {items} I get a message that it has been locked for security reasons. "
            "I haven't done anything unusual. Can you unlock it and restore my access?",
        ),
        suffix=" account",
    ),
    Situation(
        "account/change_email",
        "change account email",
        2,
        "sw",
        (6, 4, 0),
        "account",
        ("Change of email address", "Update my login email", "New email address"),
        (
            "I'm changing jobs and will lose access to my work email soon. Could you change the email address on "
            "my {items} to my personal one, which I'm writing from now?",
            "Please update the login email on my {items}. The old address is no longer active, and I'd like all "
            "notices to go to this address instead.",
            "I'd like to move my {items} to a new email address. The settings page won't let me edit the email "
            "field. Can you make the change for me?",
        ),
        suffix=" account",
    ),
    Situation(
        "account/delete_account",
        "delete account",
        2,
        "sw",
        (6, 4, 0),
        "account",
        ("Delete my account", "Account deletion request", "Close my account"),
        (
            "Please delete my {items} and all the data associated with it. I won't be using it anymore. Let me "
            "know once it's done.",
            "I want to close my {items} permanently. I've already cancelled any paid plans, so please remove the "
            "account completely.",
            "Could you permanently delete my {items}? I couldn't find a delete option in the settings. I "
            "understand this can't be undone.",
        ),
        suffix=" account",
    ),
    Situation(
        "account/compromised",
        "secure compromised account",
        5,
        "sw",
        (6, 4, 0),
        "account",
        ("Someone accessed my account", "Suspicious login alert", "Hacked account?"),
        (
            "I just got an alert about a sign-in to my {items} from a country I've never been to. I didn't do "
            "this. Please lock down the account and help me secure it.",
            "Someone changed the recovery phone number on my {items} on {date}, and it wasn't me. I think I've "
            "been hacked. Can you secure my account and undo the change?",
            "There are purchases and login sessions in my {items} that I don't recognise. I believe it has been "
            "compromised. Please help me secure it and sign out all other sessions.",
        ),
        suffix=" account",
    ),
    Situation(
        "account/two_factor",
        "reset two-factor authentication",
        4,
        "sw",
        (6, 4, 0),
        "account",
        ("Lost my 2FA device", "Two-factor authentication problem", "Can't get past 2FA"),
        (
            "I lost my phone, which had my authenticator app on it, so I can't get past the two-factor step on my "
            "{items}. Could you reset the two-factor authentication so I can set it up again?",
            "My new phone didn't transfer my authenticator codes, and now I'm stuck at the verification screen "
            "for my {items}. How can I reset 2FA?",
            "The six-digit codes from my authenticator app are rejected when I log in to my {items}. I've checked "
            "the time on my phone. Please reset the two-factor authentication on my account.",
        ),
        suffix=" account",
    ),
    Situation(
        "shipping/delayed_package",
        "track delayed package",
        3,
        "hw",
        (2, 6, 2),
        "order",
        ("Where is my order?", "Order {order} delayed", "Package hasn't arrived"),
        (
            "I ordered my {items} on {date} and the estimated delivery was {days} days ago. The tracking page "
            "hasn't updated since it left the warehouse. Can you find out where my package is?",
            "My order {order} still hasn't arrived. The tracking shows 'in transit' with no updates for a week. "
            "Could you check with the courier and let me know when my {items} will actually arrive?",
            "Could you give me an update on order {order}? It was supposed to be delivered on {date}, but there's "
            "no sign of it and the tracking link doesn't load.",
        ),
    ),
    Situation(
        "shipping/damaged_item",
        "replace damaged item",
        3,
        "hw",
        (1, 8, 1),
        "order",
        ("Item arrived damaged", "Broken on arrival", "Damaged package - order {order}"),
        (
            "My {items} arrived today with a cracked casing, and the box was visibly crushed. I've taken photos "
            "of the damage. Could you send me a replacement?",
            "The parcel for order {order} was badly dented when it arrived on {date}, and my {items} came out of "
            "it with a cracked housing. I'd like a replacement sent out, please.",
            "Unfortunately the {items} I received on {date} arrived damaged. One corner is smashed and something "
            "rattles inside. Please replace it or tell me how to return it.",
        ),
    ),
    Situation(
        "shipping/wrong_item",
        "exchange wrong item",
        3,
        "hw",
        (0, 1, 0),
        "order",
        ("Wrong item received", "Received the wrong product", "Order {order} mix-up"),
        (
            "I ordered the {items} but the box that arrived on {date} contained a set of phone cases instead. "
            "Could you send me what I actually ordered and tell me how to return the wrong item?",
            "Order {order} was for the {items}, but I received a completely different product, some kind of "
            "kitchen scale. Can we arrange an exchange?",
            "There's been a mix-up with my delivery: instead of the {items}, I got a pair of headphones that I "
            "never ordered. Please exchange it for the right item.",
        ),
    ),
    Situation(
        "shipping/change_address",
        "change shipping address",
        4,
        "hw",
        (3, 5, 2),
        "order",
        ("Change delivery address", "Wrong shipping address on order {order}", "Address update needed"),
        (
            "I just placed order {order} for my {items} and realised I used my old address. Could you change the "
            "shipping address to {street} before it ships?",
            "Please update the delivery address on order {order}. I've moved, and the {items} should go to "
            "{street} instead. It hasn't shipped yet according to my account.",
            "Is it still possible to redirect my {items}? I need the parcel delivered to my office at {street} "
            "rather than my home address.",
        ),
    ),
    Situation(
        "shipping/missing_item",
        "send missing item",
        3,
        "hw",
        (0, 1, 0),
        "item",
        ("Item missing from order", "Incomplete delivery", "Order {order} is missing something"),
        (
            "My order {order} arrived on {date}, but there was no {items} inside, only the packing slip listing "
            "it. Could you send the missing item?",
            "The parcel I received is incomplete: the packing list includes the {items}, but it isn't in the box. "
            "Can you ship it to me?",
            "I received part of order {order} today, but the {items} I paid for wasn't included. Please ship it "
            "separately or let me know what happened.",
        ),
    ),
    Situation(
        "shipping/return_label",
        "request return label",
        2,
        "hw",
        (2, 7, 1),
        "order",
        ("Return label request", "How do I return this?", "Return for order {order}"),
        (
            "I'd like to return my {items} from order {order}, as it's not what I expected. Could you email me a "
            "prepaid return label?",
            "Can you send me a return shipping label? I want to send back the {items} I bought on {date}, still "
            "unopened in the original box.",
            "I'm within the 30-day return window for order {order} and want to return my {items}. Please send me "
            "a return label and instructions.",
        ),
    ),
    Situation(
        "other/partnership",
        "discuss partnership",
        1,
        "any",
        (7, 3, 0),
        "products",
        ("Partnership opportunity", "Collaboration proposal", "Reseller partnership"),
        (
            "I run a small chain of electronics shops and we'd love to explore becoming an authorised reseller of "
            "your {items}. Would someone from your partnerships team be open to a call next month?",
            "I'm reaching out from a tech review channel with around {subs} subscribers. We'd like to discuss a "
            "sponsorship or review partnership involving your {items}. Who would be the right person to talk to?",
            "Our company builds smart home installations and we often recommend your {items} to clients. We'd "
            "like to discuss a formal partnership, maybe with referral pricing. Can we set up a meeting?",
        ),
    ),
    Situation(
        "other/product_feedback",
        "share product feedback",
        1,
        "any",
        (2, 6, 2),
        "products",
        ("Some feedback", "Product feedback", "A suggestion"),
        (
            "I wanted to share some feedback on my {items}. The setup instructions could be clearer, and a dark "
            "mode in the companion app would be a welcome addition. I hope this is useful to your product team.",
            "After using my {items} for a few months, I have a few suggestions: the menus are hard to navigate, "
            "and the notifications are too frequent by default. Please pass this on to your designers.",
            "Just some feedback on the {items}: it would be great to have more options for exporting data and a "
            "clearer monthly summary. I think a lot of users would appreciate these changes.",
        ),
    ),
    Situation(
        "other/data_request",
        "export personal data",
        3,
        "sw",
        (7, 3, 0),
        "account",
        ("Data access request", "GDPR request", "Request for a copy of my data"),
        (
            "Under the GDPR, I'm requesting a copy of all the personal data you hold about me, including data "
            "linked to my {items}. Please send it in a machine-readable format.",
            "I'd like to exercise my right of access and receive an export of all personal data associated with "
            "my {items}. Please confirm the request and let me know how long it will take.",
            "Please provide a full export of the personal information your company has stored about me, "
            "including purchase history and any data from my {items}, as data protection law requires.",
        ),
        suffix=" account",
    ),
    Situation(
        "other/bulk_quote",
        "request bulk pricing",
        2,
        "hw",
        (2, 6, 2),
        "products",
        ("Bulk order quote", "Volume pricing", "Quote request for {qty} units"),
        (
            "We're planning to equip our new office and would like a quote for {qty} units of your {items}. Do "
            "you offer volume discounts for orders of that size?",
            "Could you send me bulk pricing for your {items}? We're looking at around {qty} units for a school "
            "project and need a formal quote for our budget approval.",
            "I'd like to know whether you offer business pricing on larger orders. We'd need roughly {qty} of "
            "your {items} delivered to one address.",
        ),
    ),
)

NAMES: tuple[str, ...] = (
    "Priya Shah",
    "Mateo García",
    "Aiko Tanaka",
    "Oluwaseun Adeyemi",
    "Liam O'Connor",
    "Fatima Al-Sayed",
    "Chen Wei",
    "Sofia Rossi",
    "Dmitri Volkov",
    "Amara Okafor",
    "Lucas Moreau",
    "Ingrid Johansson",
    "Kwame Mensah",
    "Mei Lin Wong",
    "Carlos Mendes",
    "Hannah Schmidt",
    "Arjun Mehta",
    "Nadia Haddad",
    "Tomáš Novák",
    "Yuki Sato",
    "Grace Kim",
    "Ethan Brooks",
    "Zanele Dlamini",
    "Rafael Costa",
    "Elif Yılmaz",
    "Siobhan Murphy",
    "Ravi Krishnan",
    "Leila Rahimi",
    "Jakub Kowalski",
    "Ana Pereira",
    "Noah Fischer",
    "Chloé Dubois",
    "Kofi Boateng",
    "Isabella Martínez",
    "Hiroshi Nakamura",
    "Olivia Bennett",
    "Minho Park",
    "Aisha Bello",
    "Mohammed Rahman",
    "Nguyen Thi Lan",
    "Sven Larsen",
    "Camila Ortiz",
    "Tariq Hussain",
    "Emma Wilson",
    "James Carter",
    "Anastasia Petrova",
    "Diego Fernández",
    "Keiko Yamamoto",
    "Samuel Osei",
    "Lena Hoffmann",
    "Rohan Iyer",
    "Marta Nowak",
    "Thabo Nkosi",
    "Julia Svensson",
    "Omar Farouk",
    "Valentina Bruno",
    "Daniel Cohen",
    "Amani Mwangi",
    "Patrick Doyle",
    "Layla Nasser",
)
TITLES = (
    "Operations Manager",
    "IT Administrator",
    "Office Manager",
    "Founder",
    "Head of Finance",
    "Owner",
    "Procurement Lead",
    "Freelance Designer",
)
COMPANIES = (
    "Greenleaf Bakery",
    "Hollow Pine Studio",
    "Marlow & Finch LLP",
    "Tidewater Logistics",
    "Bluebird Dental",
    "Orchard Lane Cafe",
    "Kite & Compass Travel",
    "Redwood Analytics",
)
HANDLES = ("bluefox", "nightowl", "greentea", "paperplane", "sunnydays", "techfan", "rivertown", "coffeelover")
STREETS = ("Harbour Street", "Maple Avenue", "Elm Road", "Station Lane", "Queen's Parade", "Willow Court")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

GREETINGS = (
    "Hi,",
    "Hello,",
    "Hi there,",
    "Dear Support Team,",
    "Hello Ardent team,",
    "To whom it may concern,",
    "Hey,",
    "Good morning,",
    "Dear Sir or Madam,",
    "Hi support,",
)
INTROS = ("This is {name}.", "My name is {name}.", "{name} here.", "I'm {name}, a customer since {year}.")
SIGN_OFFS = (
    "Best,",
    "Regards,",
    "Thanks,",
    "Kind regards,",
    "Best regards,",
    "Sincerely,",
    "Cheers,",
    "Thank you,",
    "All the best,",
)
GENERIC_SUBJECTS = ("Help needed", "Support request", "Question", "Quick question")

CALM = (
    "No rush on this, whenever you get a chance is fine.",
    "It's not urgent at all, I just wanted to flag it.",
    "There's no hurry here, next week is fine.",
    "Take your time with this one, it's low priority.",
)
DEADLINE = (
    "I need this sorted before {weekday}, please.",
    "Could you resolve this by {weekday}? I'm travelling after that.",
    "I'd appreciate an answer before the end of the week.",
    "I have a deadline on {weekday}, so a quick reply would help.",
)
CRITICAL = (
    "This is urgent, please handle it ASAP.",
    "Please treat this as an emergency and escalate it immediately.",
    "I need this fixed today, it's critical.",
    "Please respond as soon as possible, this is urgent.",
)
TONE = {
    "positive": (
        (
            "I've been a happy customer for years and I really love your products.",
            "First of all, thank you for the great service so far!",
            "Hope you're having a lovely day! Your team has always been wonderful to deal with.",
            "I'm a big fan of Ardent and have recommended you to all my friends.",
        ),
        (
            "Thanks so much, I really appreciate your help!",
            "You folks are always brilliant, so I'm sure this will be quick. Many thanks!",
            "Thank you in advance, I really appreciate it!",
            "Keep up the great work, and thanks again!",
        ),
    ),
    "negative": (
        (
            "I'm really frustrated right now.",
            "Honestly, I'm very disappointed with how this has gone.",
            "This is the third time I've had to contact you about this, and frankly it's unacceptable.",
            "I am extremely annoyed.",
        ),
        (
            "If I don't get a proper answer soon, I'll take my business elsewhere.",
            "Frankly, this is terrible service.",
            "I expect a proper answer this time, not another canned reply.",
            "Very poor experience so far.",
        ),
    ),
}
FILLERS = (
    "Let me know if you need any other details from me.",
    "Please let me know what information you need.",
    "I can send screenshots or receipts if needed.",
)
ASIDES = (
    "For context, I also use the {product} on the same account.",
    "In case it matters, I also own the {product}.",
    "I also have the {product}, if that's relevant.",
)
CONTEXTS = {
    "billing": (
        "I've had an account with you since {year} and normally pay by card.",
        "I was going through my statements this weekend and noticed something I need your help with.",
        "I look after the payments for our small office.",
        "I'm writing about my billing.",
    ),
    "technical": (
        "I've had this problem for a few days now.",
        "Everything was working fine until recently.",
        "I searched your help centre and the community forum but couldn't find an answer.",
        "I'm not very technical, so please bear with me.",
    ),
    "account": (
        "I'm writing about my account with you.",
        "I've been a member since {year}.",
        "I couldn't find a way to do this myself on the website.",
    ),
    "shipping": (
        "I placed an order on your website recently.",
        "I'm writing about a recent delivery.",
        "I ordered from you for the first time last month.",
    ),
    "other": (
        "I hope this is the right address for this.",
        "I wasn't sure which team to contact, so I'm writing here.",
        "I've been following your company for a while.",
    ),
}
EXTRAS = {
    "billing": ("My customer ID is {customer_id}.", "The payment was made with my card ending in {last4}."),
    "technical": (
        "I've already tried restarting everything, with no luck.",
        "I followed the troubleshooting guide on your website, but it didn't help.",
        "The problem is the same every time I try.",
    ),
    "account": ("The account is registered to the address I'm writing from.", "My username is {handle}."),
    "shipping": ("The order number is {order}.", "The tracking number is {tracking}."),
    "other": ("I'm happy to provide more details if needed.", "You can reply to this address."),
}
NOTICES = {  # forwarded automatic messages: (sender, subject, body, what the customer calls it)
    "billing": (
        "Ardent Billing <billing@ardent.example>",
        "Your receipt for order {order}",
        "Thank you for your payment of {amount} for order {order}.\nThis receipt was issued on {date}.\n\n"
        "Ardent Billing",
        "receipt",
    ),
    "technical": (
        "Ardent Status <status@ardent.example>",
        "Maintenance complete",
        "The scheduled maintenance on {date} has finished and all services are running normally.\n\nArdent Status",
        "status update",
    ),
    "account": (
        "Ardent Security <security@ardent.example>",
        "Security notice for your account",
        "We noticed a change to your Ardent account on {date}.\nIf this was you, no action is needed. "
        "Otherwise, please contact support.\n\nArdent Security",
        "security notice",
    ),
    "shipping": (
        "Ardent Orders <orders@ardent.example>",
        "Your order {order} has shipped",
        "Good news! Your order {order} is on its way.\nTracking number: {tracking}\nEstimated delivery: "
        "{date}\n\nArdent Orders",
        "shipping confirmation",
    ),
}
FORWARD_HEADER = "---------- Forwarded message ---------"
FOLLOW_UP = (
    "I wrote to you about this on {date} and haven't heard back, so I'm forwarding my original message below.",
    "Resending my message from {date} below, since nobody has replied yet.",
)
REPLY_LEADS = ("Following up on your reply below.", "Replying to your message below with more details.")
AGENT_LINES = (
    "Thanks for contacting us. Could you send a few more details so we can look into this?",
    "We're sorry for the trouble. Can you confirm the order number and the email on the account?",
    "Thanks for your patience. Could you tell us a bit more about your request?",
)
AGENTS = ("Sam", "Alex", "Jordan", "Robin")
