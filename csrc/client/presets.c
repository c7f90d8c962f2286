/* Provider presets: host, port and security mode for common mail services,
 * with the user-name (and password) convention each one expects.
 *
 * Values follow the providers' published SMTP settings. Every preset uses a
 * submission port with encryption: 587 with STARTTLS, or 465 with implicit
 * TLS where that is the provider's documented default. The amazon-ses host
 * keeps a literal "{region}" for the caller to fill in. */
#include "smtpcore.h"

#include <stddef.h>

static const smtpcore_preset P_GMAIL = {
    "gmail", "Gmail / Google Workspace", "smtp.gmail.com", 587, SMTPCORE_SECURITY_STARTTLS,
    "your full Gmail or Google Workspace address; password: an app password (needs 2-Step Verification)",
};

static const smtpcore_preset P_OUTLOOK = {
    "outlook", "Outlook.com / Hotmail / Live", "smtp-mail.outlook.com", 587, SMTPCORE_SECURITY_STARTTLS,
    "your full Outlook.com, Hotmail or Live address; if password sign-in is refused, use OAuth2 (XOAUTH2)",
};

static const smtpcore_preset P_OFFICE365 = {
    "office365", "Microsoft 365 / Exchange Online", "smtp.office365.com", 587, SMTPCORE_SECURITY_STARTTLS,
    "your full mailbox address; the admin must enable Authenticated SMTP, and Microsoft is retiring passwords "
    "for SMTP, so prefer OAuth2 (XOAUTH2)",
};

static const smtpcore_preset P_YAHOO = {
    "yahoo", "Yahoo Mail", "smtp.mail.yahoo.com", 465, SMTPCORE_SECURITY_TLS,
    "your full Yahoo address; password: an app password from Yahoo account security",
};

static const smtpcore_preset P_SENDGRID = {
    "sendgrid", "SendGrid (Twilio)", "smtp.sendgrid.net", 587, SMTPCORE_SECURITY_STARTTLS,
    "the literal word apikey; password: a SendGrid API key with Mail Send permission",
};

static const smtpcore_preset P_MAILGUN = {
    "mailgun", "Mailgun (US region)", "smtp.mailgun.org", 587, SMTPCORE_SECURITY_STARTTLS,
    "the sending domain's SMTP login, e.g. postmaster@your-domain; password: that login's SMTP password",
};

static const smtpcore_preset P_MAILGUN_EU = {
    "mailgun-eu", "Mailgun (EU region)", "smtp.eu.mailgun.org", 587, SMTPCORE_SECURITY_STARTTLS,
    "the sending domain's SMTP login, e.g. postmaster@your-domain; password: that login's SMTP password",
};

static const smtpcore_preset P_AMAZON_SES = {
    "amazon-ses", "Amazon SES", "email-smtp.{region}.amazonaws.com", 587, SMTPCORE_SECURITY_STARTTLS,
    "the SES SMTP user name created for this region (SMTP credentials, not IAM access keys); replace {region}, "
    "e.g. us-east-1",
};

static const smtpcore_preset P_POSTMARK = {
    "postmark", "Postmark", "smtp.postmarkapp.com", 587, SMTPCORE_SECURITY_STARTTLS,
    "your Server API token, used as both user name and password",
};

static const smtpcore_preset P_BREVO = {
    "brevo", "Brevo (formerly Sendinblue)", "smtp-relay.brevo.com", 587, SMTPCORE_SECURITY_STARTTLS,
    "the SMTP login shown under SMTP & API in your Brevo account; password: an SMTP key (not an API key)",
};

static const smtpcore_preset P_SMTP_COM = {
    "smtp.com", "SMTP.com", "send.smtp.com", 587, SMTPCORE_SECURITY_STARTTLS,
    "the sender name from your SMTP.com account; password: that sender's API key",
};

static const smtpcore_preset P_ZOHO = {
    "zoho", "Zoho Mail", "smtp.zoho.com", 465, SMTPCORE_SECURITY_TLS,
    "your full Zoho address (app-specific password with two-factor sign-in); paid custom-domain accounts use "
    "smtppro.zoho.com, other regions smtp.zoho.eu, smtp.zoho.in and so on",
};

static const smtpcore_preset P_FASTMAIL = {
    "fastmail", "Fastmail", "smtp.fastmail.com", 465, SMTPCORE_SECURITY_TLS,
    "your full Fastmail address; password: an app password (the normal password does not work)",
};

static const smtpcore_preset P_ICLOUD = {
    "icloud", "iCloud Mail", "smtp.mail.me.com", 587, SMTPCORE_SECURITY_STARTTLS,
    "your full iCloud Mail address (name@icloud.com); password: an app-specific password",
};

static const smtpcore_preset *const presets[] = {
    &P_GMAIL,    &P_OUTLOOK, &P_OFFICE365, &P_YAHOO, &P_SENDGRID, &P_MAILGUN,   &P_MAILGUN_EU, &P_AMAZON_SES,
    &P_POSTMARK, &P_BREVO,   &P_SMTP_COM,  &P_ZOHO,  &P_FASTMAIL, &P_ICLOUD,
    NULL, /* end of table */
};

const smtpcore_preset *const *smtpcore_presets(void) { return presets; }

/* ASCII-only case folding: names are ASCII and the locale must not matter. */
static int lower(int c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

static int name_equals(const char *a, const char *b)
{
    while (*a && lower((unsigned char)*a) == lower((unsigned char)*b)) {
        a++;
        b++;
    }
    return *a == '\0' && *b == '\0';
}

const smtpcore_preset *smtpcore_preset_find(const char *name)
{
    if (!name)
        return NULL;
    for (const smtpcore_preset *const *p = presets; *p; p++)
        if (name_equals((*p)->name, name))
            return *p;
    return NULL;
}
