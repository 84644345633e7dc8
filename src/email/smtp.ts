// The SMTP side of email: nodemailer over SMTP_URL. An error keeps the server's reply and code,
// which decide whether the sender tries again.
import nodemailer from 'nodemailer';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Stable per delivery, so a copy sent again after a crash is recognisable as the same message. */
  messageId: string;
}

export interface MailTransport {
  send(mail: Mail): Promise<void>;
  close(): void;
}

export interface SmtpFailure {
  /** The SMTP reply code (550, 421, …), when the server answered. */
  code: number | undefined;
  /** The server's reply, or the connection error when there was none. */
  reply: string;
}

export function smtpFailure(err: unknown): SmtpFailure {
  const e = err as { responseCode?: unknown; response?: unknown; message?: unknown };
  const code = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const reply = typeof e.response === 'string' && e.response !== '' ? e.response : String(e.message ?? err);
  return { code, reply: reply.slice(0, 1000) };
}

/** A 5xx reply is the server's final word on this message; anything else may pass later. */
export const isPermanent = (failure: SmtpFailure) => failure.code !== undefined && failure.code >= 500 && failure.code < 600;

export function smtpTransport(url: string, from: string, timeoutMs: number): MailTransport {
  const transport = nodemailer.createTransport({
    url,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  return {
    async send(mail) {
      await transport.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html, messageId: mail.messageId });
    },
    close: () => transport.close(),
  };
}
