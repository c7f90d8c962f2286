/* Hints (smtpcore_hint_for) and provider presets (smtpcore_presets,
 * smtpcore_preset_find). */
#include "smtpcore.h"
#include "testlib.h"

#include <ctype.h>

/* Case-insensitive substring search. */
static int contains_ci(const char *hay, const char *needle)
{
    if (!hay || !needle)
        return 0;
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

/* The hint for (cat, code, enh) must exist and mention word. */
#define CHECK_HINT(cat, code, enh, word) \
    do { const char *tl_h = smtpcore_hint_for((cat), (code), (enh)); \
         if (!contains_ci(tl_h, (word))) \
             tl_fail(__FILE__, __LINE__, "hint(%s, %d, \"%s\") = \"%s\", expected it to mention \"%s\"", \
                     #cat, (int)(code), (enh) ? (const char *)(enh) : "(null)", tl_h ? tl_h : "(null)", (word)); \
    } while (0)

/* The hint for (cat, code, enh) must not mention word. */
#define CHECK_HINT_NOT(cat, code, enh, word) \
    do { const char *tl_h = smtpcore_hint_for((cat), (code), (enh)); \
         if (contains_ci(tl_h, (word))) \
             tl_fail(__FILE__, __LINE__, "hint(%s, %d, \"%s\") = \"%s\", should not mention \"%s\"", \
                     #cat, (int)(code), (enh) ? (const char *)(enh) : "(null)", tl_h, (word)); \
    } while (0)

#define CHECK_SAME_HINT(c1, k1, e1, c2, k2, e2) \
    CHECK(smtpcore_hint_for((c1), (k1), (e1)) == smtpcore_hint_for((c2), (k2), (e2)))

/* ------------------------------------------------------------------ hints */

static void test_hint_ok_is_null(void)
{
    CHECK(smtpcore_hint_for(SMTPCORE_OK, 0, "") == NULL);
    CHECK(smtpcore_hint_for(SMTPCORE_OK, 0, NULL) == NULL);
    CHECK(smtpcore_hint_for(SMTPCORE_OK, 250, "2.0.0") == NULL);
    CHECK(smtpcore_hint_for(SMTPCORE_OK, 535, "5.7.8") == NULL);
    /* An unknown category with nothing else to go on. */
    CHECK(smtpcore_hint_for((smtpcore_category)99, 0, "") == NULL);
}

static void test_hint_auth_credentials(void)
{
    const smtpcore_category A = SMTPCORE_ERR_AUTH;
    CHECK_HINT(A, 535, "5.7.8", "user name or password");
    CHECK_HINT(A, 535, "5.7.8", "full email address");
    CHECK_HINT(A, 535, "5.7.8", "app password");
    CHECK_HINT(A, 535, "5.7.8", "two-step");
    /* The same advice from the enhanced code alone, the reply code alone and the category alone. */
    CHECK_SAME_HINT(A, 535, "5.7.8", SMTPCORE_ERR_PROTOCOL, 0, "5.7.8");
    CHECK_SAME_HINT(A, 535, "5.7.8", A, 535, "");
    CHECK_SAME_HINT(A, 535, "5.7.8", A, 535, NULL);
    CHECK_SAME_HINT(A, 535, "5.7.8", A, 0, "");
    CHECK_SAME_HINT(A, 535, "5.7.8", A, 535, "5.7.1"); /* 535 wins over the generic 5.7.x */
    CHECK_SAME_HINT(A, 535, "5.7.8", A, 535, "5.7.0");
}

static void test_hint_gmail(void)
{
    const smtpcore_category A = SMTPCORE_ERR_AUTH;
    CHECK_HINT(A, 534, "5.7.9", "app password");
    CHECK_HINT(A, 534, "5.7.9", "2-Step Verification");
    CHECK_HINT(A, 534, "", "app password");
    CHECK_HINT(A, 534, "5.7.14", "web");
    CHECK_HINT(A, 534, "5.7.14", "app password");
    CHECK(smtpcore_hint_for(A, 534, "5.7.14") != smtpcore_hint_for(A, 534, "5.7.9"));
}

static void test_hint_auth_required_and_encryption(void)
{
    CHECK_HINT(SMTPCORE_ERR_AUTH, 530, "5.7.0", "set the user name and password");
    CHECK_HINT(SMTPCORE_ERR_SENDER, 530, "5.7.0", "user name and password");
    CHECK_HINT(SMTPCORE_ERR_SENDER, 530, "", "user name and password");
    CHECK_HINT(SMTPCORE_ERR_SENDER, 530, "5.7.57", "user name and password"); /* Microsoft */
    CHECK_HINT(SMTPCORE_ERR_AUTH, 538, "5.7.11", "encrypted");
    CHECK_HINT(SMTPCORE_ERR_AUTH, 538, "5.7.11", "starttls");
    CHECK_HINT(SMTPCORE_ERR_AUTH, 538, "", "encrypted");
    /* 530 in the TLS category is "must issue STARTTLS first". */
    CHECK_HINT(SMTPCORE_ERR_TLS, 530, "5.7.0", "starttls");
    CHECK_HINT_NOT(SMTPCORE_ERR_TLS, 530, "5.7.0", "password");
    CHECK_HINT(SMTPCORE_ERR_AUTH, 504, "5.5.4", "auth_mechanism");
}

static void test_hint_microsoft(void)
{
    CHECK_HINT(SMTPCORE_ERR_AUTH, 535, "5.7.139", "Authenticated SMTP");
    CHECK_HINT(SMTPCORE_ERR_AUTH, 535, "5.7.3", "Microsoft");
    CHECK_HINT(SMTPCORE_ERR_AUTH, 550, "5.7.30", "OAuth2");
    CHECK_HINT(SMTPCORE_ERR_SENDER, 550, "5.7.60", "SendAsDenied");
    CHECK_HINT(SMTPCORE_ERR_RECIPIENT, 550, "5.7.60", "Send As");
    CHECK_HINT(SMTPCORE_ERR_PROTOCOL, 550, "5.7.708", "IP");
    CHECK_HINT(SMTPCORE_ERR_RECIPIENT, 550, "5.7.708", "Microsoft");
    CHECK_HINT(SMTPCORE_ERR_RECIPIENT, 550, "5.4.1", "does not exist");
    CHECK_HINT(SMTPCORE_ERR_RECIPIENT, 550, "5.7.54", "relay");
}

static void test_hint_timeout_connect_dns(void)
{
    const smtpcore_category T = SMTPCORE_ERR_TIMEOUT;
    CHECK_HINT(T, 0, "", "host");
    CHECK_HINT(T, 0, "", "port");
    CHECK_HINT(T, 0, "", "firewall");
    CHECK_HINT(T, 0, "", "hosting provider");
    CHECK_HINT(T, 0, "", "25");
    CHECK_HINT(T, 0, "", "465");
    CHECK_HINT(T, 0, "", "587");
    CHECK_HINT(T, 0, "", "starttls");
    CHECK_HINT(T, 0, NULL, "'tls'");

    CHECK_HINT(SMTPCORE_ERR_CONNECT, 0, "", "port");
    CHECK_HINT(SMTPCORE_ERR_CONNECT, 0, "", "Nothing accepted");
    CHECK_HINT(SMTPCORE_ERR_CONNECT, 0, "", "blocks");

    CHECK_HINT(SMTPCORE_ERR_DNS, 0, "", "host name");
    CHECK_HINT(SMTPCORE_ERR_DNS, 0, "", "typos");
}

static void test_hint_tls(void)
{
    const smtpcore_category T = SMTPCORE_ERR_TLS;
    CHECK_HINT(T, 0, "", "certificate");
    CHECK_HINT(T, 0, "", "host name");
    CHECK_HINT(T, 0, "", "ca_file");
    CHECK_HINT(T, 0, "", "does not offer STARTTLS");
    CHECK_HINT(T, 0, "", "port 465 with security 'tls'");
    CHECK_HINT(T, 0, "", "only on a trusted network");
    CHECK_HINT(T, 0, "", "'opportunistic'");
    CHECK_HINT(T, 454, "4.7.0", "465");
}

static void test_hint_recipient(void)
{
    const smtpcore_category R = SMTPCORE_ERR_RECIPIENT;
    CHECK_HINT(R, 550, "5.1.1", "does not exist");
    CHECK_HINT(R, 550, "5.1.1", "spelling");
    CHECK_HINT(R, 550, "5.1.0", "spelling");     /* any X.1.x */
    CHECK_HINT(R, 553, "5.1.3", "malformed");
    CHECK_HINT(R, 550, "5.1.2", "domain");
    CHECK_HINT(R, 550, "", "does not exist");    /* 550 on RCPT without an enhanced code */
    CHECK_HINT(R, 0, "", "per-recipient");
    CHECK_HINT(R, 552, "5.2.2", "full");
    CHECK_HINT(R, 550, "5.2.1", "disabled");
    CHECK_HINT(R, 550, "5.4.4", "route");
    CHECK_HINT(R, 550, "5.4.4", "DNS");
}

static void test_hint_sender(void)
{
    const smtpcore_category S = SMTPCORE_ERR_SENDER;
    const char *want = "does not let this account send as that From address";
    CHECK_HINT(S, 553, "5.7.1", want);
    CHECK_HINT(S, 553, "5.7.1", "verified");
    CHECK_HINT(S, 550, "5.7.0", want);
    CHECK_HINT(S, 554, "5.7.1", want);  /* the sender rule wins over 554 5.7.1 */
    CHECK_HINT(S, 553, "", want);
    CHECK_HINT(S, 0, "", want);
    CHECK_HINT(S, 553, "5.1.8", "domain"); /* bad sender system address */
    /* SPF trouble at MAIL FROM is reported as SPF, not as send-as. */
    CHECK_HINT(S, 550, "5.7.23", "SPF");
}

static void test_hint_size(void)
{
    CHECK_HINT(SMTPCORE_ERR_SIZE, 552, "5.3.4", "too large");
    CHECK_HINT(SMTPCORE_ERR_SIZE, 552, "5.3.4", "attachments");
    CHECK_HINT(SMTPCORE_ERR_SIZE, 552, "5.3.4", "links");
    CHECK_HINT(SMTPCORE_ERR_PROTOCOL, 552, "5.2.3", "too large");
    CHECK_HINT(SMTPCORE_ERR_SENDER, 552, "5.3.4", "too large");
    CHECK_HINT(SMTPCORE_ERR_PROTOCOL, 552, "", "too large");
    CHECK_HINT(SMTPCORE_ERR_SIZE, 0, "", "too large");
}

static void test_hint_relay(void)
{
    const char *words[] = {"relay", "user name and password", "admin"};
    for (size_t i = 0; i < 3; i++) {
        CHECK_HINT(SMTPCORE_ERR_RELAY, 554, "5.7.1", words[i]);
        CHECK_HINT(SMTPCORE_ERR_RELAY, 0, "", words[i]);
        CHECK_HINT(SMTPCORE_ERR_RELAY, 550, "5.7.0", words[i]);
        CHECK_HINT(SMTPCORE_ERR_RECIPIENT, 554, "5.7.1", words[i]);
        CHECK_HINT(SMTPCORE_ERR_PROTOCOL, 554, "5.7.1", words[i]);
    }
}

static void test_hint_temporary(void)
{
    CHECK_HINT(SMTPCORE_ERR_PROTOCOL, 421, "4.7.0", "try again later");
    CHECK_HINT(SMTPCORE_ERR_PROTOCOL, 421, "", "busy");
    CHECK_HINT(SMTPCORE_ERR_CONNECT, 421, "", "temporary");
    CHECK_HINT(SMTPCORE_ERR_RECIPIENT, 450, "4.2.0", "temporarily");
    CHECK_HINT(SMTPCORE_ERR_RECIPIENT, 450, "", "try again");
    CHECK_HINT(SMTPCORE_ERR_PROTOCOL, 451, "4.3.0", "temporary");
    CHECK_HINT(SMTPCORE_ERR_PROTOCOL, 451, "", "try again later");
    CHECK_HINT(SMTPCORE_ERR_RECIPIENT, 452, "4.3.1", "storage");
    CHECK_HINT(SMTPCORE_ERR_RECIPIENT, 452, "4.5.3", "fewer recipients");
    CHECK_HINT(SMTPCORE_ERR_RECIPIENT, 452, "", "fewer recipients");
    CHECK_HINT(SMTPCORE_ERR_RECIPIENT, 552, "5.5.3", "fewer recipients");
    CHECK_HINT(SMTPCORE_ERR_RECIPIENT, 452, "4.2.2", "full");
    CHECK_HINT(SMTPCORE_ERR_AUTH, 454, "4.7.0", "try again later");
    CHECK_HINT(SMTPCORE_ERR_PROTOCOL, 0, "4.4.2", "try again later"); /* any 4.x.x */
    CHECK_HINT(SMTPCORE_ERR_PROTOCOL, 458, "", "try again later");    /* any 4yz */
    /* Temporary sender failures are not send-as refusals. */
    CHECK_HINT_NOT(SMTPCORE_ERR_SENDER, 451, "4.7.1", "send as");
}

static void test_hint_policy_and_authentication(void)
{
    CHECK_HINT(SMTPCORE_ERR_PROTOCOL, 554, "5.7.0", "spam");
    CHECK_HINT(SMTPCORE_ERR_PROTOCOL, 550, "5.7.1", "spam");
    CHECK_HINT(SMTPCORE_ERR_PROTOCOL, 550, "5.7.1", "block list");
    CHECK_HINT(SMTPCORE_ERR_PROTOCOL, 554, "", "policy");
    CHECK_HINT(SMTPCORE_ERR_RECIPIENT, 550, "5.7.26", "DMARC");
    CHECK_HINT(SMTPCORE_ERR_RECIPIENT, 550, "5.7.26", "SPF");
    CHECK_HINT(SMTPCORE_ERR_RECIPIENT, 550, "5.7.26", "DKIM");
    CHECK_HINT(SMTPCORE_ERR_RECIPIENT, 421, "4.7.26", "DMARC");      /* Gmail's temporary form */
    CHECK_HINT(SMTPCORE_ERR_RECIPIENT, 550, "5.7.23", "SPF");
    CHECK_HINT(SMTPCORE_ERR_RECIPIENT, 550, "5.7.25", "reverse DNS");
    CHECK_HINT(SMTPCORE_ERR_RECIPIENT, 550, "5.7.25", "PTR");
    CHECK_HINT(SMTPCORE_ERR_RECIPIENT, 550, "5.7.20", "DKIM");
}

static void test_hint_protocol(void)
{
    const smtpcore_category P = SMTPCORE_ERR_PROTOCOL;
    CHECK_HINT(P, 500, "5.5.1", "bug");
    CHECK_HINT(P, 503, "5.5.1", "refused a command");
    CHECK_HINT(P, 502, "", "bug");
    CHECK_HINT(P, 555, "5.5.4", "bug");
    CHECK_HINT(P, 0, "", "closed the connection");
    CHECK_HINT(P, 0, "", "transcript");
    CHECK_HINT(P, 554, "5.6.7", "SMTPUTF8");
    CHECK_HINT(P, 554, "5.6.0", "content");
    CHECK_HINT(P, 554, "5.3.2", "mail system");
}

static void test_hint_usage_local(void)
{
    CHECK_HINT(SMTPCORE_ERR_USAGE, 0, "", "input given to smtpcore is invalid");
    CHECK_HINT(SMTPCORE_ERR_USAGE, 0, "", "message");
    CHECK_HINT(SMTPCORE_ERR_USAGE, 535, "5.7.8", "input"); /* usage errors never reached a server */
    CHECK_HINT(SMTPCORE_ERR_LOCAL, 0, "", "file");
    CHECK_HINT(SMTPCORE_ERR_LOCAL, 0, "", "memory");
    CHECK_HINT(SMTPCORE_ERR_LOCAL, 451, "4.3.0", "local");
}

static void test_hint_bad_enhanced_codes(void)
{
    const smtpcore_category A = SMTPCORE_ERR_AUTH;
    const char *generic = smtpcore_hint_for(A, 0, "");
    const char *bad[] = {"5.7", "5.7.", ".7.8", "57.8", "5.7.8.", "5.7.8 ", "x.7.8", "6.7.8", "5.7.1234",
                         "5..8", "15.7.8", "5.7.8x", "5.1000.1"};
    REQUIRE(generic != NULL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (smtpcore_hint_for(A, 0, bad[i]) != generic)
            tl_fail(__FILE__, __LINE__, "enhanced \"%s\" should be ignored", bad[i]);
    /* Well-formed codes are recognised, including three-digit details. */
    CHECK_HINT(SMTPCORE_ERR_PROTOCOL, 0, "5.7.139", "Microsoft");
    CHECK_HINT(SMTPCORE_ERR_PROTOCOL, 0, "5.1.10", "domain");
}

/* Every category has a hint; every hint is short, plain and ends a sentence. */
static void test_hint_shape(void)
{
    static const int codes[] = {0, 421, 450, 451, 452, 454, 500, 501, 502, 503, 504, 521, 530, 534, 535, 538,
                                550, 551, 552, 553, 554, 555, 556};
    static const char *const enh[] = {"", "4.2.2", "4.5.3", "4.7.0", "5.1.1", "5.1.2", "5.1.3", "5.1.8", "5.2.2",
                                      "5.2.3", "5.3.4", "5.4.1", "5.4.4", "5.5.1", "5.6.7", "5.7.0", "5.7.1",
                                      "5.7.3", "5.7.8", "5.7.9", "5.7.11", "5.7.14", "5.7.23", "5.7.25", "5.7.26",
                                      "5.7.30", "5.7.57", "5.7.60", "5.7.139", "5.7.708"};
    for (int c = SMTPCORE_ERR_CONNECT; c <= SMTPCORE_ERR_USAGE; c++)
        if (!smtpcore_hint_for((smtpcore_category)c, 0, ""))
            tl_fail(__FILE__, __LINE__, "no hint for category %s", smtpcore_category_name((smtpcore_category)c));
    for (int c = SMTPCORE_ERR_CONNECT; c <= SMTPCORE_ERR_USAGE; c++)
        for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
            for (size_t j = 0; j < sizeof enh / sizeof enh[0]; j++) {
                const char *h = smtpcore_hint_for((smtpcore_category)c, codes[i], enh[j]);
                if (!h) {
                    tl_fail(__FILE__, __LINE__, "no hint for (%d, %d, %s)", c, codes[i], enh[j]);
                    continue;
                }
                size_t n = strlen(h), sentences = 0;
                if (n < 20 || n > 400 || h[n - 1] != '.' || strpbrk(h, "<>\r\n"))
                    tl_fail(__FILE__, __LINE__, "badly shaped hint (%d, %d, %s): \"%s\"", c, codes[i], enh[j], h);
                for (size_t k = 0; k + 1 < n; k++)
                    if ((h[k] == '.' || h[k] == '!' || h[k] == '?') && h[k + 1] == ' ')
                        sentences++;
                if (sentences + 1 > 3)
                    tl_fail(__FILE__, __LINE__, "hint longer than 3 sentences: \"%s\"", h);
            }
}

/* ------------------------------------------------------------------ presets */

static size_t preset_count(void)
{
    const smtpcore_preset *const *p = smtpcore_presets();
    size_t n = 0;
    while (p[n])
        n++;
    return n;
}

static void test_presets_table(void)
{
    const smtpcore_preset *const *p = smtpcore_presets();
    REQUIRE(p != NULL);
    size_t n = preset_count(); /* also proves the NULL terminator is reached */
    CHECK(n >= 14);
    CHECK(p[n] == NULL);
    CHECK(smtpcore_presets() == p); /* one static table */

    for (size_t i = 0; i < n; i++) {
        const smtpcore_preset *q = p[i];
        REQUIRE(q->name && q->name[0]);
        CHECK(q->label && q->label[0]);
        CHECK(q->host && strlen(q->host) > 4 && strchr(q->host, '.'));
        CHECK(q->port == 587 || q->port == 465);
        CHECK(q->security == SMTPCORE_SECURITY_STARTTLS || q->security == SMTPCORE_SECURITY_TLS);
        /* 465 is implicit TLS, 587 is STARTTLS. */
        CHECK((q->port == 465) == (q->security == SMTPCORE_SECURITY_TLS));
        CHECK(q->username_hint && strlen(q->username_hint) > 5);
        for (const char *s = q->name; *s; s++)
            if (isupper((unsigned char)*s) || isspace((unsigned char)*s))
                tl_fail(__FILE__, __LINE__, "preset name \"%s\" is not lowercase", q->name);
        for (const char *s = q->host; *s; s++)
            if (isspace((unsigned char)*s) || isupper((unsigned char)*s))
                tl_fail(__FILE__, __LINE__, "preset host \"%s\" has spaces or capitals", q->host);
        for (size_t j = 0; j < i; j++)
            if (strcmp(p[j]->name, q->name) == 0)
                tl_fail(__FILE__, __LINE__, "duplicate preset name \"%s\"", q->name);
        CHECK(smtpcore_preset_find(q->name) == q);
    }
}

static void check_preset(const char *name, const char *host, int port, smtpcore_security sec, const char *user_word)
{
    const smtpcore_preset *p = smtpcore_preset_find(name);
    if (!p) {
        tl_fail(__FILE__, __LINE__, "preset \"%s\" missing", name);
        return;
    }
    CHECK_STR_EQ(p->name, name);
    CHECK_STR_EQ(p->host, host);
    CHECK_INT_EQ(p->port, port);
    CHECK_INT_EQ(p->security, sec);
    if (!contains_ci(p->username_hint, user_word))
        tl_fail(__FILE__, __LINE__, "%s username_hint \"%s\" should mention \"%s\"", name, p->username_hint,
                user_word);
}

static void test_presets_values(void)
{
    const smtpcore_security ST = SMTPCORE_SECURITY_STARTTLS, TLS = SMTPCORE_SECURITY_TLS;
    check_preset("gmail", "smtp.gmail.com", 587, ST, "full Gmail");
    check_preset("gmail", "smtp.gmail.com", 587, ST, "app password");
    check_preset("outlook", "smtp-mail.outlook.com", 587, ST, "Outlook.com");
    check_preset("office365", "smtp.office365.com", 587, ST, "OAuth2");
    check_preset("yahoo", "smtp.mail.yahoo.com", 465, TLS, "app password");
    check_preset("sendgrid", "smtp.sendgrid.net", 587, ST, "apikey");
    check_preset("sendgrid", "smtp.sendgrid.net", 587, ST, "API key");
    check_preset("mailgun", "smtp.mailgun.org", 587, ST, "postmaster@");
    check_preset("mailgun-eu", "smtp.eu.mailgun.org", 587, ST, "postmaster@");
    check_preset("amazon-ses", "email-smtp.{region}.amazonaws.com", 587, ST, "not IAM");
    check_preset("postmark", "smtp.postmarkapp.com", 587, ST, "both user name and password");
    check_preset("brevo", "smtp-relay.brevo.com", 587, ST, "SMTP key");
    check_preset("smtp.com", "send.smtp.com", 587, ST, "API key");
    check_preset("zoho", "smtp.zoho.com", 465, TLS, "full Zoho");
    check_preset("fastmail", "smtp.fastmail.com", 465, TLS, "app password");
    check_preset("icloud", "smtp.mail.me.com", 587, ST, "app-specific password");
}

static void test_preset_find(void)
{
    const smtpcore_preset *g = smtpcore_preset_find("gmail");
    REQUIRE(g != NULL);
    CHECK(smtpcore_preset_find("GMAIL") == g);
    CHECK(smtpcore_preset_find("GMail") == g);
    CHECK(smtpcore_preset_find("Amazon-SES") == smtpcore_preset_find("amazon-ses"));
    CHECK(smtpcore_preset_find("SMTP.COM") == smtpcore_preset_find("smtp.com"));
    CHECK(smtpcore_preset_find("MAILGUN-EU") != smtpcore_preset_find("mailgun"));
    CHECK(smtpcore_preset_find("Office365") != NULL);

    CHECK(smtpcore_preset_find(NULL) == NULL);
    CHECK(smtpcore_preset_find("") == NULL);
    CHECK(smtpcore_preset_find("hotmail.example") == NULL);
    CHECK(smtpcore_preset_find("gmai") == NULL);   /* no prefix matching */
    CHECK(smtpcore_preset_find("gmailx") == NULL);
    CHECK(smtpcore_preset_find(" gmail") == NULL); /* no trimming */
    CHECK(smtpcore_preset_find("gmail ") == NULL);
    CHECK(smtpcore_preset_find("mailgun-") == NULL);
    CHECK(smtpcore_preset_find("smtp") == NULL);
}

TEST_MAIN(
    {"hint_ok_is_null", test_hint_ok_is_null},
    {"hint_auth_credentials", test_hint_auth_credentials},
    {"hint_gmail", test_hint_gmail},
    {"hint_auth_required_and_encryption", test_hint_auth_required_and_encryption},
    {"hint_microsoft", test_hint_microsoft},
    {"hint_timeout_connect_dns", test_hint_timeout_connect_dns},
    {"hint_tls", test_hint_tls},
    {"hint_recipient", test_hint_recipient},
    {"hint_sender", test_hint_sender},
    {"hint_size", test_hint_size},
    {"hint_relay", test_hint_relay},
    {"hint_temporary", test_hint_temporary},
    {"hint_policy_and_authentication", test_hint_policy_and_authentication},
    {"hint_protocol", test_hint_protocol},
    {"hint_usage_local", test_hint_usage_local},
    {"hint_bad_enhanced_codes", test_hint_bad_enhanced_codes},
    {"hint_shape", test_hint_shape},
    {"presets_table", test_presets_table},
    {"presets_values", test_presets_values},
    {"preset_find", test_preset_find},
)
