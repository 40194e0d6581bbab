"""Word lists for "does this serve a KR?": stopwords, request filler, concepts.

Hand-written from general business and engineering vocabulary, one group per
idea a key result is usually about (churn, uptime, hiring, ...). A group lists
the everyday words and phrases people use for the same thing, so a request
that says "cancellation" can find a KR that says "churn". Groups are about
ideas, not about any one KR or request: words that mean different things in
different teams ("pipeline", "review", "upgrade") are left out on purpose,
because a wrong synonym costs more than a missing one.
"""

from __future__ import annotations

# Function words: they carry no topic.
STOPWORDS = frozenset(
    """
    a about above after again against all almost along already also although am among an and
    any anyone anything are around as at be because been before being below between both but by
    did do does doing done down during each either else even ever every few for from further
    had has have having he her here hers him his how however i if in into is it its itself just
    me more most much my no nor not now of off on once one only or other our ours out over own
    per same she so some such than that the their theirs them then there these they this those
    through to too under until up upon us very via was we were what when where whether which
    while who whom whose why will with within without would yet you your yours
    """.split()
)

# Words that say "this is a request" rather than what it is about.
REQUEST_FILLER = frozenset(
    """
    add adding added adds allow allows able can could should would must need needs needed want
    wants wish please pls let lets make makes making made fix fixes fixed fixing implement
    implements implemented implementing implementation improve improves improved improving
    improvement improvements enhance enhancement enhancements update updates updated updating
    feature features request requests issue issues bug bugs task tasks todo feat chore wip rfc
    ticketed new create creates created creating enable enables enabled ensure ensures use uses
    used using get gets got set sets etc e g eg ie maybe possible possibility consider
    something thing things stuff better easy easier simple simply just like way ways currently
    current now really actually proper properly instead per
    support supports supported supporting
    """.split()
)
# "support" is filler on its own ("add support for X"); "customer support" and
# "support ticket" still count, as phrases in CONCEPTS.

# Verbs of change that KR titles start with ("Cut ...", "Raise ..."): they say
# which way a number should move, not what the KR is about.
DIRECTION_WORDS = frozenset(
    """
    achieve bring boost cut cuts decrease double drive grow grows halve hit increase keep lift
    lower maintain meet raise reach reduce reduces shorten shrink
    """.split()
)

# Concept groups: every entry is a word or a phrase in plain form.
CONCEPTS: dict[str, tuple[str, ...]] = {
    "activation": (
        "activation", "activate", "activated", "onboarding", "onboard", "first run", "first-run",
        "first login", "first session", "getting started", "get started", "setup wizard",
        "guided setup", "setup checklist", "product tour", "welcome screen", "welcome flow",
        "aha moment", "time to value", "first value", "new user", "new users", "signup",
        "sign up", "sign-up", "empty state", "nux", "walkthrough",
    ),
    "trial_conversion": (
        "trial", "free trial", "trial to paid", "paid plan", "upgrade prompt", "upgrade path",
        "upgrade to paid", "upgrade to pro", "upgrade button", "paywall", "plan limit",
        "plan limits", "usage limit", "usage limits", "free plan", "free tier", "freemium",
        "conversion", "convert", "subscribe", "pricing page",
    ),
    "invites": (
        "invite", "invites", "invitation", "invitations", "invite link", "teammate", "teammates",
        "colleague", "colleagues", "collaborator", "collaborators", "referral", "refer a friend",
        "viral", "add member", "add members", "second member",
    ),
    "seo_traffic": (
        "seo", "organic", "organic search", "search engine", "search engines", "search ranking",
        "ranking", "google search", "meta description", "meta descriptions", "meta tag",
        "meta tags", "sitemap", "robots.txt", "indexing", "indexed", "canonical",
        "structured data", "backlink", "backlinks", "website traffic", "visitor", "visitors",
        "landing page", "landing pages", "keyword", "keywords",
    ),
    "content": (
        "blog", "blog post", "blog posts", "blogging", "article", "articles", "tutorial",
        "tutorials", "guide", "how-to", "announcement", "announcements", "announce", "write-up",
        "newsletter", "content marketing", "case study",
    ),
    "community": (
        "community", "discord", "forum", "forums", "slack community", "meetup", "meetups",
        "ambassador", "ambassadors", "user group", "community call",
    ),
    "churn": (
        "churn", "churned", "retention", "retain", "cancel", "cancels", "cancellation",
        "cancellations", "cancelling", "canceling", "cancelled", "canceled", "downgrade",
        "downgrades", "save offer", "retention offer", "winback", "win back", "exit survey",
        "pause subscription", "leaving", "attrition", "renewal", "renewals",
    ),
    "expansion": (
        "expansion", "expand", "upsell", "cross-sell", "seat", "seats", "add-on", "addon",
        "net revenue retention", "nrr", "team plan", "enterprise plan", "account growth",
    ),
    "revenue": ("revenue", "arr", "mrr", "acv", "iacv"),
    "availability": (
        "availability", "available", "uptime", "downtime", "outage", "outages", "went down",
        "goes down", "is down", "healthcheck", "healthchecks", "health check", "health checks",
        "sla", "slo", "slos", "high availability", "redundancy", "redundant", "load balancer",
        "status page", "degradation", "reliability",
    ),
    "incident_recovery": (
        "incident", "incidents", "mttr", "mean time to recovery", "time to recover", "recover",
        "recovery", "recovers", "postmortem", "postmortems", "post-mortem", "post mortem",
        "rollback", "roll back", "rolled back", "rolledback", "runbook", "runbooks", "on-call",
        "on call", "oncall", "pager", "pagerduty", "alert", "alerts", "alerting",
        "outage investigation",
    ),
    "disaster_recovery": (
        "disaster recovery", "rto", "rpo", "backup", "backups", "restore", "replica",
        "replicas", "read replica", "replication", "cross-region", "cross region",
        "multi-region", "multi region", "second region", "another region", "different region",
        "failover", "fail over", "standby", "warm standby", "geo-redundant",
        "business continuity",
    ),
    "latency": (
        "latency", "latencies", "p95", "p99", "p50", "percentile", "response time",
        "response times", "slow", "slowness", "performance", "perf", "speed up", "faster",
        "milliseconds", "ms", "timeout", "timeouts", "optimize", "optimise", "n+1",
        "query performance",
    ),
    "support_response": (
        "first response", "response time", "reply time", "time to first reply",
        "support ticket", "support tickets", "ticket", "tickets", "sla", "escalate",
        "escalation", "helpdesk", "help desk", "support inbox", "support queue", "zendesk",
        "intercom", "freshdesk", "customer support",
    ),
    "satisfaction": (
        "csat", "customer satisfaction", "satisfaction", "satisfaction survey", "nps",
        "net promoter", "happiness", "thumbs up", "thumbs down",
    ),
    "self_service": (
        "self-service", "self service", "help center", "help centre", "knowledge base", "kb",
        "faq", "faqs", "help article", "help articles", "support article", "support articles",
        "deflect", "deflection", "contact form", "answer bot", "suggested articles",
    ),
    "sales_pipeline": (
        "qualified pipeline", "sales pipeline", "lead", "leads", "lead scoring", "opportunity",
        "opportunities", "crm", "salesforce", "hubspot", "deal", "deals", "prospect",
        "prospects", "prospecting", "outbound", "mql", "sqo", "quota", "forecast",
        "forecasting", "revops",
    ),
    "competitive": (
        "competitor", "competitors", "competitive", "comparison", "comparisons", "compare",
        "alternative", "alternatives", "vs", "versus", "battlecard", "battlecards", "win rate",
        "win-loss", "win loss", "migrate from", "switch from",
    ),
    "sales_cycle": (
        "sales cycle", "deal velocity", "procurement", "security questionnaire",
        "vendor questionnaire", "questionnaire", "questionnaires", "security review",
        "vendor review", "legal review", "redline", "redlines", "contract", "contracts", "msa",
        "dpa", "security pack", "trust center",
    ),
    "hiring": (
        "hire", "hiring", "recruit", "recruiting", "recruitment", "recruiter", "candidate",
        "candidates", "interview", "interviews", "interviewing", "job posting", "job postings",
        "job description", "job descriptions", "job post", "applicant", "applicants", "ats",
        "applicant tracking", "sourcing", "headcount", "time to hire", "time to fill",
        "open roles", "open positions", "talent",
    ),
    "offers": (
        "offer letter", "offer acceptance", "job offer", "counter-offer", "counter-offers",
        "counteroffer", "compensation", "salary", "salaries", "equity", "salary bands",
        "pay bands", "decline offer", "declines offer", "declining offer",
    ),
    "dev_onboarding": (
        "local development", "local dev", "dev environment", "development environment",
        "dev setup", "setup script", "bootstrap", "docker compose", "docker-compose",
        "devcontainer", "dev container", "contributor", "contributors", "newcomer",
        "newcomers", "new hire", "new hires", "new engineer", "new engineers", "first commit",
        "first pr", "first change", "ramp up", "ramp-up", "make dev", "one command",
        "single command",
    ),
    "growth_checkin": (
        "1:1", "1-1", "1:1s", "one-on-one", "one on one", "1on1", "121", "121s", "career",
        "career development", "career conversation", "career conversations", "career chat",
        "growth plan", "development plan", "performance review", "check-in", "checkin",
        "direct report", "direct reports", "line manager", "manager", "managers", "mentoring",
    ),
    "vulnerability": (
        "vulnerability", "vulnerabilities", "vulnerable", "cve", "cves", "dependabot",
        "npm audit", "security patch", "security update", "security fix", "patch", "exploit",
        "advisory", "advisories", "snyk", "pen test", "pentest", "penetration test",
        "security scan", "ghsa",
    ),
    "auth_mfa": (
        "mfa", "2fa", "two-factor", "two factor", "multi-factor", "multi factor",
        "second factor", "two-step", "two step", "sso", "saml", "samlauth", "single sign-on",
        "single sign on", "okta", "oidc", "openid", "identity provider", "idp", "yubikey",
        "security key", "passkey",
    ),
    "compliance": (
        "soc 2", "soc2", "type ii", "type 2", "audit", "audits", "auditor", "auditors",
        "compliance", "compliant", "evidence", "access review", "access reviews",
        "iso 27001", "hipaa", "gdpr", "attestation", "security policy", "security policies",
    ),
    "api_docs": (
        "api docs", "api documentation", "api reference", "reference docs", "endpoint",
        "endpoints", "openapi", "swagger", "example request", "example requests",
        "request example", "response example", "curl", "code sample", "code samples",
        "json example", "json examples", "schema", "schemas", "documentation", "document",
        "docs",
    ),
    "developer_first_call": (
        "sdk", "sdks", "client library", "client libraries", "quickstart", "quick start",
        "getting started", "hello world", "postman", "postman collection", "api key",
        "api keys", "sample app", "first api call", "developer experience",
    ),
    "crashes": (
        "crash", "crashes", "crashing", "crashed", "crashs", "crash-free", "crash free",
        "crash rate", "exception", "exceptions", "null pointer", "nullpointerexception", "anr",
        "fatal", "force close", "stack trace", "stacktrace", "segfault", "app dies",
        "keeps dying",
    ),
    "app_rating": (
        "app store", "play store", "google play", "playstore", "rating", "ratings",
        "review prompt", "in-app review", "rate the app", "rate this app", "rate us",
        "star rating", "stars", "store listing", "app review", "rate and review",
    ),
    "startup_time": (
        "cold start", "cold boot", "warm start", "startup", "start-up", "start up",
        "startup time", "launch time", "app launch", "on launch", "splash", "splash screen",
        "splashscreen", "white screen", "time to interactive", "app start",
    ),
    "mobile": (
        "mobile", "ios", "android", "iphone", "ipad", "react native", "flutter", "kotlin",
        "swift", "apk", "pixel", "phone", "phones", "tablet",
    ),
    "cloud_cost": (
        "cloud cost", "cloud costs", "infrastructure cost", "cost", "costs", "spend",
        "spending", "bill", "bills", "cloud bill", "rightsize", "rightsizing", "right-size",
        "reserved instance", "reserved instances", "savings plan", "spot instance",
        "spot instances", "finops", "budget", "unused resources", "credits", "cost-optimize",
    ),
    "ci_speed": (
        "ci", "continuous integration", "ci pipeline", "build time", "build times",
        "slow build", "github actions", "github action", "gitlab ci", "circleci", "travis",
        "jenkins", "test suite", "tests", "parallel", "parallelize", "parallelise",
        "parallelism", "sharding", "build cache", "caching", "runner", "runners", "flaky",
        "pytest",
    ),
    "deploy_frequency": (
        "deploy", "deploys", "deployment", "deployments", "deploy frequency",
        "deployment frequency", "release", "releases", "continuous deployment",
        "continuous delivery", "feature flag", "feature flags", "feature toggle",
        "feature toggles", "change failure rate", "trunk-based", "ship small", "ship often",
        "release train", "canary", "progressive delivery", "rollout", "to prod",
        "to production", "straight to prod",
    ),
    "accessibility": (
        "accessibility", "accessible", "a11y", "wcag", "aria", "aria-label", "aria labels",
        "screen reader", "screenreader", "screenreaders", "screen readers",
        "keyboard navigation", "keyboard nav", "keyboard accessibility", "keyboard only",
        "color contrast", "colour contrast", "contrast", "alt text", "focus indicator",
        "focus order", "voiceover", "nvda", "high contrast", "section 508",
    ),
    "localization": (
        "localization", "localisation", "l10n", "i18n", "internationalization",
        "internationalisation", "translation", "translations", "translate", "translated",
        "language", "languages", "locale", "locales", "multilingual", "weblate", "crowdin",
        "german", "french", "spanish", "japanese", "portuguese", "chinese", "korean",
        "italian", "dutch", "rtl",
    ),
    "failed_payments": (
        "failed payment", "failed payments", "failed card payments", "payment failed",
        "payment failure", "payment_failed", "card declined", "declined card",
        "declined cards", "payment declined", "dunning", "past due", "past_due",
        "payment retry", "payment retries", "smart retries", "involuntary churn",
        "expired card", "expiring card", "card update", "update card", "invoice", "invoices",
        "unpaid", "grace period", "stripe",
    ),
    "checkout": (
        "checkout", "check out", "check-out", "cart", "shopping cart", "abandonment",
        "abandoned cart", "cart abandonment", "guest checkout", "one page checkout",
        "one-page checkout", "payment step", "purchase flow", "order form", "payment page",
        "buy button",
    ),
}
