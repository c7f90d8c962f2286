<?php

/**
 * The PHP API of the smtpcore extension. smtpcore_arginfo.h is generated from
 * this file and committed; after editing it, regenerate with (offline, using
 * Debian's php-parser package):
 *
 *     sh bindings/php/gen_arginfo.sh
 *
 * which runs php-src's gen_stub.php (/usr/lib/php/<api>/build/gen_stub.php) on
 * this file with PhpParser from /usr/share/php/PhpParser.
 *
 * @generate-class-entries
 */

namespace SmtpCore {

    /**
     * Provider presets by name: name, label, host, port, security, usernameHint.
     * @return array<string, array{name: string, label: string, host: string, port: int, security: string, usernameHint: ?string}>
     */
    function presets(): array {}

    /** The version of the smtpcore C library. */
    function version(): string {}

    /**
     * A message description. Attachments are read from their files while the
     * message is sent, never held in memory whole. Every method but toString()
     * returns the message, so calls chain.
     *
     * @strict-properties
     * @not-serializable
     */
    class Message
    {
        /** "Name <address>" or "address". */
        public function from(string $address): static {}

        /** Sender header, when someone sends on behalf of From. */
        public function sender(string $address): static {}

        /** The envelope sender (Return-Path) when it differs from Sender/From; "" for a null sender. */
        public function envelopeSender(string $address): static {}

        /** A comma-separated list or an array of mailboxes; adds to earlier ones. */
        public function to(string|array $addresses): static {}

        /** Adds to earlier ones. */
        public function cc(string|array $addresses): static {}

        /** Envelope only: never in the headers. */
        public function bcc(string|array $addresses): static {}

        public function replyTo(string|array $addresses): static {}

        public function subject(string $subject): static {}

        /** The plain-text body (UTF-8). */
        public function text(string $text): static {}

        /** The HTML body (UTF-8); inline images are referenced as "cid:<cid>". */
        public function html(string $html): static {}

        /** An iCalendar invitation, shown as one by mail clients (also attached as invite.ics). */
        public function calendar(string $ics, string $method = "REQUEST"): static {}

        /**
         * Attach a plain file (no URLs or stream wrappers), read when the message is sent.
         * $name defaults to the file's base name, $type to a type from the extension.
         */
        public function attach(string $path, ?string $name = null, ?string $type = null): static {}

        public function attachData(string $bytes, string $name, ?string $type = null): static {}

        /** An inline image for the HTML part, referenced there as "cid:$cid". */
        public function embed(string $path, string $cid, ?string $type = null): static {}

        public function embedData(string $bytes, string $cid, ?string $name = null, ?string $type = null): static {}

        /**
         * Any other header. Message-ID, In-Reply-To, References, List-Unsubscribe and Date go as given
         * (validated); other values are encoded as needed. From, To, Subject, Content-* etc. are refused.
         */
        public function header(string $name, string $value): static {}

        /** Deterministic output: boundaries, Message-ID and (unless set) Date derive from the seed. */
        public function seed(int $seed): static {}

        /** The Date header from a Unix time and a zone offset in minutes east of UTC. */
        public function date(int $timestamp, int $utcOffsetMinutes = 0): static {}

        /**
         * Sign with DKIM when the message is rendered; may be called twice (RSA and Ed25519).
         * Options: domain, selector, privateKey (PEM text), and optionally canonicalization
         * ("relaxed/relaxed"), headers (names to sign, a list or "From:To:Subject"), timestamp
         * (t=; 0: now, -1: omit).
         */
        public function dkim(#[\SensitiveParameter] array $options): static {}

        /**
         * The message as it would be sent: RFC 5322 bytes with CRLF line ends. $eightBit and $smtputf8
         * say what the transport allows (8BITMIME, SMTPUTF8); send() asks the server.
         */
        public function toString(bool $eightBit = false, bool $smtputf8 = false): string {}
    }

    /**
     * A connection to one SMTP server. Nothing is sent until the first send(); the
     * connection then stays open for the next send() and is reopened if the server
     * dropped it. Options as an array, as named arguments, or both (named ones win).
     * Timeouts are in seconds. $pipelineDepth (1-64, default 32): how many messages of
     * a sendMany() batch may be unanswered at once when the server offers CHUNKING.
     *
     * @strict-properties
     * @not-serializable
     */
    class Client
    {
        /**
         * $options takes the same names as the other parameters. $transcript: true (default) keeps
         * the transcript of the last send (see transcript()), false keeps none, and a callable is
         * also called with each line as it happens.
         */
        public function __construct(
            #[\SensitiveParameter] array $options = [],
            ?string $host = null,
            ?int $port = null,
            ?string $security = null,
            ?string $username = null,
            #[\SensitiveParameter] ?string $password = null,
            ?string $preset = null,
            ?string $region = null,
            int|float|null $timeout = null,
            int|float|null $connectTimeout = null,
            ?string $caFile = null,
            ?bool $verify = null,
            ?bool $allowPlaintextAuth = null,
            ?string $ehloName = null,
            ?string $authMechanism = null,
            #[\SensitiveParameter] ?string $oauth2Token = null,
            callable|bool|null $transcript = null,
            ?string $caDir = null,
            ?string $clientCert = null,
            ?string $clientKey = null,
            ?string $tlsServerName = null,
            ?bool $allOrNothing = null,
            ?bool $pipelining = null,
            ?bool $chunking = null,
            ?int $pipelineDepth = null
        ) {}

        /**
         * Send a message to its To, Cc and Bcc. Returns the per-recipient result when the server
         * took the message for at least one recipient (see Result::ok()); throws otherwise.
         */
        public function send(Message $message): Result {}

        /** Send RFC 5322 bytes as they are (line ends normalised) to bare addresses. */
        public function sendRaw(string $message, string $from, array $to): Result {}

        /**
         * Send many messages over one connection, pipelined when the server offers PIPELINING (the
         * next message's envelope goes out without waiting for the previous message's reply).
         * Returns one entry per message, with the input's keys and order: a Result, or the exception
         * object send() would have thrown for it (returned, not thrown). One failing message does not
         * stop the others; if the connection is lost, the rest fail with ConnectException and none
         * of them counts as sent. The batch has a connection of its own, opened for the call and
         * closed when it returns. Throws TypeError, before anything is sent, if an element is not a
         * Message.
         */
        public function sendMany(array $messages): array {}

        /** QUIT and close the connection; a later send() opens a new one. */
        public function close(): void {}

        /** The protocol lines of the last send ("C: ", "S: ", "*  " prefixes), AUTH payloads redacted. */
        public function transcript(): array {}
    }

    /**
     * What the server said about one message.
     *
     * @strict-properties
     */
    final class Result
    {
        private bool $ok = false;
        private array $accepted = [];
        private array $refused = [];
        private int $code = 0;
        private ?string $enhancedCode = null;
        private string $message = "";

        private function __construct() {}

        /** True when every recipient was accepted. */
        public function ok(): bool {}

        /** @return list<string> the recipients the server accepted */
        public function accepted(): array {}

        /** @return array<string, array{code: int, enhanced: ?string, message: string}> */
        public function refused(): array {}

        /** The final reply code (250), 0 if the message was not sent. */
        public function code(): int {}

        public function enhancedCode(): ?string {}

        /** The final reply text, often with the server's queue id. */
        public function message(): string {}
    }

    /** Every smtpcore failure; the subclass says which kind (getCategory()). */
    class Exception extends \Exception
    {
        protected string $category = "";
        protected int $smtpCode = 0;
        protected ?string $enhancedCode = null;
        protected ?string $serverMessage = null;
        protected ?string $hint = null;
        protected array $transcript = [];
        protected ?Result $result = null;

        /** "connect", "dns", "tls", "auth", "sender", "recipient", "size", "relay", "timeout", "protocol", "local", "usage" */
        public function getCategory(): string {}

        /** The SMTP reply code, 0 if none. */
        public function getSmtpCode(): int {}

        /** The RFC 3463 enhanced status code ("5.7.8"), null if none. */
        public function getEnhancedCode(): ?string {}

        /** The server's reply text, null if the server said nothing. */
        public function getServerMessage(): ?string {}

        /** Plain-language advice on what to check, or null. */
        public function getHint(): ?string {}

        /** The protocol transcript up to the failure, AUTH payloads redacted. */
        public function getTranscript(): array {}

        /** Per-recipient results, when the transaction got that far (always for RecipientsRefusedException). */
        public function getResult(): ?Result {}
    }

    class ConnectException extends Exception
    {
        protected string $category = "connect";
    }

    class DnsException extends Exception
    {
        protected string $category = "dns";
    }

    class TlsException extends Exception
    {
        protected string $category = "tls";
    }

    class AuthException extends Exception
    {
        protected string $category = "auth";
    }

    class SenderRefusedException extends Exception
    {
        protected string $category = "sender";
    }

    class RecipientsRefusedException extends Exception
    {
        protected string $category = "recipient";
    }

    class SizeException extends Exception
    {
        protected string $category = "size";
    }

    class RelayException extends Exception
    {
        protected string $category = "relay";
    }

    class TimeoutException extends Exception
    {
        protected string $category = "timeout";
    }

    class ProtocolException extends Exception
    {
        protected string $category = "protocol";
    }

    class LocalException extends Exception
    {
        protected string $category = "local";
    }

    class UsageException extends Exception
    {
        protected string $category = "usage";
    }
}
