"""Name pools for generated people, places and devices (all fictitious)."""

FIRST_NAMES = (
    "Mark", "Jane", "Chandra", "Mike", "Roberta", "Olek", "Ana", "Luis", "Priya", "Tom", "Keiko", "Samir",
    "Fatima", "Jonas", "Elena", "Kwame", "Mei", "Pedro", "Ingrid", "Ravi", "Sofia", "Yusuf", "Hannah",
    "Diego", "Aisha", "Lars", "Noor", "Carlos", "Zoe", "Dmitri",
)
LAST_NAMES = (
    "Smith", "Li", "Agarwal", "Ride", "Nowak", "Silva", "Garcia", "Patel", "Brown", "Tanaka", "Haddad",
    "Khan", "Berg", "Petrova", "Mensah", "Chen", "Santos", "Larsen", "Rao", "Rossi", "Demir", "Weber",
    "Lopez", "Bello", "Nilsen", "Aziz", "Moreau", "Kim", "Ivanov", "O'Brien",
)
DEPARTMENTS = ("Sales", "Sales Engineering", "Support", "East Office", "Billing", "Marketing", "Operations")
BRANCHES = ("East Coast", "West Coast", "EMEA", "HQ")
DEVICE_MODELS = ("Yealink T54W", "Polycom VVX 450", "8x8 Work Desktop", "8x8 Work Mobile iOS",
                 "8x8 Work Mobile Android", "Cisco 8841")
QUEUE_NAMES = ("Test Queue", "Support Queue", "Sales Queue", "Billing Queue", "VIP Line")
RING_GROUPS = ("Front Desk", "Sales Hunt", "Night Team")
AA_PATHS = ("Main AA>1", "Main AA>2", "Main AA>0>Operator", "After Hours AA>1")
COUNTRIES = ("United States - Mobile", "United States - Fixed", "Germany - Other", "Brazil - Mobile",
             "India - Mobile", "United Kingdom - Fixed", "Netherlands - Fixed", "Mexico - Mobile")
SMS_TEXTS = (
    "Your appointment is confirmed for tomorrow at 10:00.",
    "Hi! Thanks for contacting us. Reply STOP to opt out.",
    "Your verification code is 482913.",
    " ".join(["We tried to reach you about your order. Please call us back at your convenience."] * 3),
    "Olá! Seu pedido foi enviado. Acompanhe pelo link do site.",
    "Payment received, thank you — ref #A-2231.",
)
SMS_TEMPLATES = ("appointment_reminder", "order_update", "otp", "callback_request")
SOCIAL_HANDLES = ("Guest", "@acme_fan", "Olek's test", "Maria G.", "+5511987654321", "visitor-4411")
WRAPUP_CODES = (
    ("0100", "Qualified Lead"), ("0101", "Sale Closed"), ("0200", "Callback Scheduled"),
    ("0300", "Not Interested"), ("1002", "Technical Issue Resolved"), ("1007", "Billing Question"),
    ("2001", "Wrong Number"), ("9999", "Other"),
)
TEAM_NAMES = ("Dayshift", "Nightshift", "Weekend", "Escalations", "Onboarding")
CAMPAIGN_NAMES = ("Spring Promo", "Renewals Q3", "Win-back", "NPS Survey", "Webinar Follow-up")
LEAD_SOURCES = ("Google ADS", "Website", "Referral", "Trade Show")
