/* Plain-language hints for failures: what to check, in the spirit of the
 * troubleshooting lists in WP Mail SMTP / FluentSMTP and the Gmail and
 * Microsoft 365 documentation.
 *
 * smtpcore_hint_for() walks one ordered rule table and returns the hint of
 * the first rule that matches, so the order of the table is the precedence:
 *
 *   0. SMTPCORE_OK gives NULL; USAGE and LOCAL always give their own hint
 *      (nothing reached the server, so a server code cannot be the reason).
 *   1. Categories the caller has already pinned down: RELAY; a TLS failure
 *      with a reply (530 before STARTTLS, 454 to STARTTLS).
 *   2. (reply code, enhanced code) pairs and exact enhanced codes, including
 *      provider-specific ones (Gmail 5.7.9 / 5.7.14, Microsoft 5.7.3 /
 *      5.7.139 / 5.7.30 / 5.7.60 / 5.7.708, RFC 7372 SPF/DKIM/PTR codes).
 *   3. Reply codes that mean one thing whatever the enhanced code says
 *      (530, 534, 535, 538 are all about authentication).
 *   4. Temporary failures: 421, 450, 451, 452, then any 4.y.z or 4yz.
 *   5. Enhanced subject (RFC 3463): X.1 addressing, X.2 mailbox, X.3 mail
 *      system, X.4 network and routing, X.5 protocol, X.6 content,
 *      X.7 security and policy; sender-side variants first.
 *   6. The remaining reply codes.
 *   7. The category alone.
 *
 * Every hint is a static string of one to three sentences: no secrets, no
 * markup, nothing taken from the server's reply. */
#include "smtpcore.h"

#include <stddef.h>

/* ------------------------------------------------------------------ hints */

/* Authentication */
static const char H_AUTH_CREDENTIALS[] =
    "The server rejected the user name or password. Check both: most providers want the full email address as the "
    "user name, and if the account uses two-step verification, create an app password and use it instead of the "
    "normal password.";
static const char H_AUTH_REQUIRED[] =
    "The server requires you to sign in before sending: set the user name and password, over an encrypted "
    "connection (security 'starttls' or 'tls').";
static const char H_AUTH_MECH[] =
    "The server does not support the chosen sign-in method: leave auth_mechanism empty so the strongest method the "
    "server offers is used.";
static const char H_APP_PASSWORD[] =
    "The server will not accept a normal password for this sign-in. On Gmail this means an app password is "
    "required: turn on 2-Step Verification, create an app password and use it as the password; on other servers, "
    "leave auth_mechanism empty to use the strongest method offered.";
static const char H_WEB_LOGIN[] =
    "The provider blocked this sign-in until it is confirmed (Gmail: 'log in via your web browser'). Sign in once "
    "on the provider's website and complete any security check, then use an app password if the account has "
    "2-Step Verification.";
static const char H_ENCRYPTION_REQUIRED[] =
    "The server only accepts this sign-in over an encrypted connection: use security 'starttls' (port 587) or "
    "'tls' (port 465) instead of 'none' or 'opportunistic'.";
static const char H_PASSWORD_TRANSITION[] =
    "The provider wants the password changed or confirmed first: sign in once on its website, then try again.";
static const char H_ACCOUNT_DISABLED[] =
    "The account is disabled or locked: contact the provider or the server's admin.";
static const char H_MS_AUTH[] =
    "Microsoft 365 refused the sign-in. Check the user name (the full mailbox address) and password, and ask the "
    "admin to turn on Authenticated SMTP for this mailbox; with security defaults or MFA, sign in with OAuth2 "
    "(XOAUTH2) instead of a password.";
static const char H_MS_BASIC_AUTH[] =
    "Microsoft no longer accepts a password for SMTP on this account: sign in with OAuth2 instead (auth_mechanism "
    "'XOAUTH2' and an oauth2_token).";

/* Sender */
static const char H_SEND_AS[] =
    "The server does not let this account send as that From address: use the account's own address or an alias "
    "the provider has verified.";
static const char H_MS_SEND_AS[] =
    "Microsoft 365 does not let this account send as that From address (SendAsDenied): use the mailbox's own "
    "address, or have the admin grant Send As rights for that address.";
static const char H_SENDER_ADDRESS[] =
    "The server refused the sender (From) address as invalid or unknown: check its spelling and that its domain "
    "exists in DNS.";
static const char H_ADDRESS_SYNTAX[] =
    "The server says an address is malformed: check the sender and recipient addresses for typos, spaces or a "
    "missing domain.";

/* Sender authentication and reputation */
static const char H_DMARC[] =
    "The message failed sender authentication (SPF, DKIM or DMARC) for the From domain. Publish SPF and DKIM "
    "records for that domain, add a DMARC record, and send through a server those records authorize.";
static const char H_SPF[] =
    "The message failed the SPF check: add this sending server (or your mail provider's include:) to the SPF "
    "record of the From domain.";
static const char H_DKIM[] =
    "The message's DKIM signature was missing or did not verify: set up DKIM signing for the From domain and "
    "publish its public key in DNS.";
static const char H_PTR[] =
    "The receiving server wants reverse DNS for the sending IP: it needs a PTR record whose name resolves back to "
    "the same IP. Ask the hosting provider to set it, or send through your mail provider's server.";
static const char H_NULL_MX_SENDER[] =
    "The From domain declares that it handles no mail (null MX): use a From address on a domain that accepts mail.";
static const char H_RATE[] =
    "The provider sees unusually much mail from this sender or IP and is limiting it. Send more slowly, check for "
    "spam complaints, and try again later.";
static const char H_MS_IP_BLOCKED[] =
    "Microsoft 365 does not accept mail from this sending IP (common for new or trial tenants and IPs with a poor "
    "reputation). The tenant admin must get the block lifted by Microsoft; until then, send through another "
    "service.";
static const char H_POLICY[] =
    "The server refused the message by policy, often spam filtering or a block list. Read the server's text, "
    "check the sending IP against block lists, and set up SPF, DKIM and DMARC for the From domain.";

/* Relaying */
static const char H_RELAY[] =
    "The server will not relay mail for you to that recipient: authenticate (set user name and password), or ask "
    "the server's admin to allow relaying from this host.";
static const char H_RELAY_OR_POLICY[] =
    "The server refused this recipient or message. Usually relaying is denied: authenticate (set user name and "
    "password) or ask the server's admin to allow relaying from this host; if its text mentions spam or a block "
    "list, it was a spam-policy rejection instead.";

/* Recipients and mailboxes */
static const char H_RCPT_UNKNOWN[] =
    "The recipient address does not exist on that server: check its spelling.";
static const char H_RCPT_DOMAIN[] =
    "The recipient's domain does not exist or does not accept mail: check the part after the @ for typos.";
static const char H_RCPT_MOVED[] =
    "The recipient's mailbox has moved or is not on that server: ask the recipient for their current address.";
static const char H_RCPT_REJECTED[] =
    "The recipient's server refused the address, usually because it does not exist there: check the spelling, or "
    "ask the recipient's admin.";
static const char H_MAILBOX_FULL[] =
    "The recipient's mailbox is full: they need to free space. Try again later.";
static const char H_MAILBOX_UNAVAILABLE[] =
    "The recipient's mailbox is disabled or not accepting mail: check the address, or reach the recipient "
    "another way.";
static const char H_TOO_MANY_RCPTS[] =
    "The server limits the number of recipients per message: send to fewer recipients at a time.";
static const char H_RECIPIENT[] =
    "The server refused one or more recipients: see the per-recipient results and check each address's spelling.";

/* Message */
static const char H_SIZE[] =
    "The message is too large for the server: reduce or compress the attachments, or share large files as links "
    "instead.";
static const char H_CONTENT[] =
    "The server could not accept the message's content or encoding. Read the server's text; 8-bit text, very long "
    "lines or certain attachment types are common causes.";
static const char H_UTF8[] =
    "The server does not accept non-ASCII (internationalised) addresses or headers: use an ASCII address, or a "
    "server that supports SMTPUTF8.";

/* Servers, routing, protocol */
static const char H_SYSTEM[] =
    "The receiving mail system has a problem (full, not accepting mail, or misconfigured). Try again later; if it "
    "persists, contact its admin.";
static const char H_ROUTING[] =
    "The server could not route the message to the recipient's domain: check the domain for typos; its DNS (MX "
    "records) may be wrong or its mail server unreachable.";
static const char H_DOMAIN_NO_MAIL[] =
    "That server or domain does not accept mail at all: check the host name, or the recipient's domain.";
static const char H_PROTOCOL_BUG[] =
    "The server refused a command as invalid or out of order. This is likely a bug in smtpcore or a server quirk: "
    "save the transcript and report it.";
static const char H_PROTOCOL[] =
    "The server closed the connection or replied in an unexpected way. Try again; if it keeps happening, check "
    "that port and security match (465 with 'tls', 587 with 'starttls') and save the transcript for a bug report.";

/* Temporary */
static const char H_TEMP_BUSY[] =
    "The server is busy, limiting how fast you send, or closing the connection. This is temporary: try again "
    "later, and send more slowly if it keeps happening.";
static const char H_TEMP_MAILBOX[] =
    "The recipient's mailbox is temporarily unavailable (busy, or the server greylists new senders). This is "
    "temporary: try again in a few minutes.";
static const char H_TEMP_LOCAL[] =
    "The server had a temporary local error while processing the request. Try again later; if it persists, "
    "contact the server's admin.";
static const char H_TEMP_STORAGE[] =
    "The server is temporarily short of storage or got too many recipients at once: send to fewer recipients per "
    "message, or try again later.";
static const char H_TEMPORARY[] =
    "The server refused temporarily (busy, rate limiting or greylisting). Try again later, and send more slowly if "
    "it keeps happening.";

/* Connection and TLS */
static const char H_CONNECT[] =
    "Nothing accepted the connection at that host and port: check the host and port (587 for 'starttls', 465 for "
    "'tls'), and that no firewall or hosting provider blocks outgoing SMTP.";
static const char H_DNS[] =
    "The server's host name did not resolve: check it for typos (for example smtp.gmail.com), and that this "
    "machine's DNS works.";
static const char H_TIMEOUT[] =
    "The server did not answer in time. Check the host and port, and that no firewall or hosting provider blocks "
    "outgoing SMTP ports 25, 465 and 587 (many cloud hosts block them); use port 587 with security 'starttls' or "
    "port 465 with security 'tls', since mixing them up makes the connection hang.";
static const char H_TLS[] =
    "The secure connection failed: check that the host name matches the server's certificate, and set ca_file if "
    "the server uses a private CA. If the server does not offer STARTTLS, use port 465 with security 'tls', or, "
    "only on a trusted network, security 'opportunistic'.";
static const char H_TLS_REQUIRED[] =
    "The server requires an encrypted connection first: use security 'starttls' (port 587) or 'tls' (port 465).";
static const char H_TLS_UNAVAILABLE[] =
    "The server announced STARTTLS but could not start it: try again later, or use port 465 with security 'tls'.";

/* Caller side */
static const char H_USAGE[] =
    "The input given to smtpcore is invalid, so nothing was sent: the message says which value to fix.";
static const char H_LOCAL[] =
    "A local problem stopped sending (memory, a file, or the message source): check that attachment files exist "
    "and are readable, then try again.";

/* ------------------------------------------------------------------ rules */

#define ANY (-1)

typedef struct hint_rule {
    int cat;              /* smtpcore_category, or ANY */
    int code;             /* reply code (100-599), reply class (1-5: first digit only), or ANY */
    int cls, subj, det;   /* enhanced code parts, each ANY for "any"; all three ANY: enhanced code not needed */
    const char *hint;
} hint_rule;

#define C_AUTH SMTPCORE_ERR_AUTH
#define C_SENDER SMTPCORE_ERR_SENDER
#define C_RCPT SMTPCORE_ERR_RECIPIENT
#define C_RELAY SMTPCORE_ERR_RELAY
#define C_TLS SMTPCORE_ERR_TLS

static const hint_rule rules[] = {
    /* 1. Categories that settle it. */
    {C_RELAY, ANY, ANY, ANY, ANY, H_RELAY},
    {C_TLS, 530, ANY, ANY, ANY, H_TLS_REQUIRED},    /* "530 5.7.0 Must issue a STARTTLS command first" */
    {C_TLS, 454, ANY, ANY, ANY, H_TLS_UNAVAILABLE}, /* "454 TLS not available due to temporary reason" */

    /* 2. (code, enhanced) pairs and exact enhanced codes. */
    {ANY, 530, 5, 7, 0, H_AUTH_REQUIRED},          /* RFC 4954: authentication required */
    {ANY, ANY, ANY, 7, 57, H_AUTH_REQUIRED},       /* Microsoft: client not authenticated to send mail */
    {ANY, ANY, ANY, 7, 8, H_AUTH_CREDENTIALS},     /* RFC 4954: invalid credentials */
    {ANY, 535, ANY, 7, 3, H_MS_AUTH},              /* Microsoft: 535 5.7.3 authentication unsuccessful */
    {ANY, ANY, ANY, 7, 139, H_MS_AUTH},            /* Microsoft: SMTP AUTH disabled / security defaults */
    {ANY, ANY, ANY, 7, 30, H_MS_BASIC_AUTH},       /* Microsoft: basic auth not supported for submission */
    {ANY, ANY, ANY, 7, 9, H_APP_PASSWORD},         /* RFC 4954 mechanism too weak; Gmail app password */
    {ANY, ANY, ANY, 7, 14, H_WEB_LOGIN},           /* Gmail: log in via your web browser */
    {ANY, ANY, ANY, 7, 10, H_ENCRYPTION_REQUIRED}, /* RFC 5248: encryption needed */
    {ANY, ANY, ANY, 7, 11, H_ENCRYPTION_REQUIRED}, /* RFC 4954: 538 encryption required for mechanism */
    {ANY, ANY, ANY, 7, 12, H_PASSWORD_TRANSITION}, /* RFC 4954 */
    {ANY, ANY, ANY, 7, 13, H_ACCOUNT_DISABLED},    /* RFC 5248 */
    {ANY, ANY, ANY, 7, 60, H_MS_SEND_AS},          /* Microsoft: SendAsDenied */
    {ANY, ANY, ANY, 7, 708, H_MS_IP_BLOCKED},      /* Microsoft: traffic not accepted from this IP */
    {ANY, ANY, ANY, 7, 26, H_DMARC},               /* RFC 7372 multiple auth checks failed; Gmail DMARC */
    {ANY, ANY, ANY, 7, 23, H_SPF},                 /* RFC 7372 SPF validation failed */
    {ANY, ANY, ANY, 7, 24, H_SPF},                 /* RFC 7372 SPF validation error */
    {ANY, ANY, ANY, 7, 25, H_PTR},                 /* RFC 7372 reverse DNS validation failed */
    {ANY, ANY, ANY, 7, 20, H_DKIM},                /* RFC 7372 no passing DKIM signature */
    {ANY, ANY, ANY, 7, 21, H_DKIM},
    {ANY, ANY, ANY, 7, 22, H_DKIM},
    {ANY, ANY, ANY, 7, 27, H_NULL_MX_SENDER},      /* RFC 7505 */
    {ANY, ANY, ANY, 7, 28, H_RATE},                /* Gmail: unusual rate of mail */
    {ANY, ANY, ANY, 7, 54, H_RELAY},               /* Microsoft: unable to relay */
    {C_SENDER, ANY, 5, 7, 1, H_SEND_AS},           /* "553 5.7.1 Sender address rejected: not owned by user" */
    {C_RCPT, ANY, 5, 7, 1, H_RELAY_OR_POLICY},     /* "554 5.7.1 Relay access denied", "550 5.7.1 Unable to relay" */
    {ANY, 554, 5, 7, 1, H_RELAY_OR_POLICY},
    {ANY, 554, 5, 7, 0, H_POLICY},
    {ANY, ANY, ANY, 3, 4, H_SIZE},                 /* message too big for system */
    {ANY, ANY, ANY, 2, 3, H_SIZE},                 /* message length exceeds administrative limit */
    {ANY, ANY, ANY, 5, 3, H_TOO_MANY_RCPTS},       /* "452 4.5.3 Too many recipients" */
    {ANY, ANY, ANY, 2, 2, H_MAILBOX_FULL},
    {ANY, 550, 5, 4, 1, H_RCPT_REJECTED},          /* Microsoft: "Recipient address rejected: Access denied" */
    {ANY, ANY, 5, 1, 1, H_RCPT_UNKNOWN},
    {ANY, ANY, 5, 1, 2, H_RCPT_DOMAIN},
    {ANY, ANY, 5, 1, 10, H_RCPT_DOMAIN},           /* RFC 7505: recipient domain has a null MX */
    {ANY, ANY, 5, 1, 3, H_ADDRESS_SYNTAX},
    {ANY, ANY, 5, 1, 6, H_RCPT_MOVED},
    {ANY, ANY, 5, 1, 7, H_SENDER_ADDRESS},         /* bad sender's mailbox address syntax */
    {ANY, ANY, 5, 1, 8, H_SENDER_ADDRESS},         /* bad sender's system address */
    {ANY, ANY, 5, 2, 1, H_MAILBOX_UNAVAILABLE},
    {ANY, ANY, 5, 6, 7, H_UTF8},                   /* RFC 6531: non-ASCII addresses not permitted */
    {ANY, ANY, 5, 6, 9, H_UTF8},                   /* RFC 6531: UTF-8 header cannot be transferred */

    /* 3. Reply codes with one meaning. */
    {C_AUTH, 502, ANY, ANY, ANY, H_AUTH_MECH},
    {C_AUTH, 504, ANY, ANY, ANY, H_AUTH_MECH},
    {ANY, 535, ANY, ANY, ANY, H_AUTH_CREDENTIALS},
    {ANY, 534, ANY, ANY, ANY, H_APP_PASSWORD},
    {ANY, 538, ANY, ANY, ANY, H_ENCRYPTION_REQUIRED},
    {ANY, 530, ANY, ANY, ANY, H_AUTH_REQUIRED},
    {C_SENDER, 501, ANY, ANY, ANY, H_ADDRESS_SYNTAX},
    {C_RCPT, 501, ANY, ANY, ANY, H_ADDRESS_SYNTAX},

    /* 4. Temporary failures. */
    {ANY, 421, ANY, ANY, ANY, H_TEMP_BUSY},
    {ANY, 450, ANY, ANY, ANY, H_TEMP_MAILBOX},
    {ANY, 451, ANY, ANY, ANY, H_TEMP_LOCAL},
    {ANY, 452, ANY, ANY, ANY, H_TEMP_STORAGE},
    {ANY, ANY, 4, ANY, ANY, H_TEMPORARY},
    {ANY, 4, ANY, ANY, ANY, H_TEMPORARY},

    /* 5. Enhanced subject, permanent. */
    {C_SENDER, ANY, 5, 1, ANY, H_SENDER_ADDRESS},
    {C_SENDER, ANY, 5, 7, ANY, H_SEND_AS},
    {ANY, ANY, 5, 1, ANY, H_RCPT_UNKNOWN},
    {ANY, ANY, 5, 2, ANY, H_MAILBOX_UNAVAILABLE},
    {ANY, ANY, 5, 3, ANY, H_SYSTEM},
    {ANY, ANY, 5, 4, ANY, H_ROUTING},
    {ANY, ANY, 5, 5, ANY, H_PROTOCOL_BUG},
    {ANY, ANY, 5, 6, ANY, H_CONTENT},
    {ANY, ANY, 5, 7, ANY, H_POLICY},

    /* 6. Remaining reply codes. */
    {C_SENDER, 5, ANY, ANY, ANY, H_SEND_AS},
    {C_RCPT, 550, ANY, ANY, ANY, H_RCPT_UNKNOWN},
    {C_RCPT, 551, ANY, ANY, ANY, H_RCPT_MOVED},
    {C_RCPT, 553, ANY, ANY, ANY, H_ADDRESS_SYNTAX},
    {ANY, 552, ANY, ANY, ANY, H_SIZE},
    {ANY, 554, ANY, ANY, ANY, H_POLICY},
    {ANY, 521, ANY, ANY, ANY, H_DOMAIN_NO_MAIL},   /* RFC 7504 */
    {ANY, 556, ANY, ANY, ANY, H_DOMAIN_NO_MAIL},   /* RFC 7504 */
    {ANY, 500, ANY, ANY, ANY, H_PROTOCOL_BUG},
    {ANY, 501, ANY, ANY, ANY, H_PROTOCOL_BUG},
    {ANY, 502, ANY, ANY, ANY, H_PROTOCOL_BUG},
    {ANY, 503, ANY, ANY, ANY, H_PROTOCOL_BUG},
    {ANY, 504, ANY, ANY, ANY, H_PROTOCOL_BUG},
    {ANY, 555, ANY, ANY, ANY, H_PROTOCOL_BUG},
};

/* Parse "C.S.D" (RFC 3463: class 2, 4 or 5; subject and detail 1-3 digits).
 * Returns 1 and fills the parts, or 0 if s is empty or not such a code. */
static int parse_enhanced(const char *s, int *cls, int *subj, int *det)
{
    int part[3];
    if (!s)
        return 0;
    for (int i = 0; i < 3; i++) {
        int n = 0, digits = 0;
        while (*s >= '0' && *s <= '9') {
            if (++digits > 3)
                return 0;
            n = n * 10 + (*s - '0');
            s++;
        }
        if (digits == 0 || (i == 0 && digits != 1))
            return 0;
        part[i] = n;
        if (i < 2 && *s++ != '.')
            return 0;
    }
    if (*s != '\0')
        return 0;
    if (part[0] != 2 && part[0] != 4 && part[0] != 5)
        return 0;
    *cls = part[0];
    *subj = part[1];
    *det = part[2];
    return 1;
}

static int rule_matches(const hint_rule *r, int cat, int code, int have_enh, int cls, int subj, int det)
{
    if (r->cat != ANY && r->cat != cat)
        return 0;
    if (r->code != ANY) {
        if (r->code < 10) {
            if (code < 100 || code > 599 || code / 100 != r->code)
                return 0;
        } else if (r->code != code) {
            return 0;
        }
    }
    if (r->cls == ANY && r->subj == ANY && r->det == ANY)
        return 1;
    if (!have_enh)
        return 0;
    return (r->cls == ANY || r->cls == cls) && (r->subj == ANY || r->subj == subj) &&
           (r->det == ANY || r->det == det);
}

static const char *category_hint(smtpcore_category cat)
{
    switch (cat) {
    case SMTPCORE_ERR_CONNECT: return H_CONNECT;
    case SMTPCORE_ERR_DNS: return H_DNS;
    case SMTPCORE_ERR_TLS: return H_TLS;
    case SMTPCORE_ERR_AUTH: return H_AUTH_CREDENTIALS;
    case SMTPCORE_ERR_SENDER: return H_SEND_AS;
    case SMTPCORE_ERR_RECIPIENT: return H_RECIPIENT;
    case SMTPCORE_ERR_SIZE: return H_SIZE;
    case SMTPCORE_ERR_RELAY: return H_RELAY;
    case SMTPCORE_ERR_TIMEOUT: return H_TIMEOUT;
    case SMTPCORE_ERR_PROTOCOL: return H_PROTOCOL;
    case SMTPCORE_ERR_LOCAL: return H_LOCAL;
    case SMTPCORE_ERR_USAGE: return H_USAGE;
    case SMTPCORE_OK: break;
    }
    return NULL;
}

const char *smtpcore_hint_for(smtpcore_category cat, int code, const char *enhanced)
{
    if (cat == SMTPCORE_OK)
        return NULL;
    if (cat == SMTPCORE_ERR_USAGE || cat == SMTPCORE_ERR_LOCAL)
        return category_hint(cat);

    int cls = 0, subj = 0, det = 0;
    int have_enh = parse_enhanced(enhanced, &cls, &subj, &det);
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (rule_matches(&rules[i], (int)cat, code, have_enh, cls, subj, det))
            return rules[i].hint;
    return category_hint(cat);
}
