// A real SMTP server for the email tests, on 127.0.0.1 and a free port, keeping every message it
// accepts (parsed) and answering each recipient as the test scripts it.
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string[];
  from: string;
  subject: string;
  text: string;
  html: string;
  messageId: string | undefined;
}

/** An SMTP reply to a RCPT TO: the code and message, or undefined to accept. */
export type RcptReply = { code: number; message: string } | undefined;

export class TestSmtpServer {
  readonly received: ReceivedMail[] = [];
  /** Called for each recipient with the number of times that address was offered so far (1-based). */
  onRecipient: (address: string, n: number) => RcptReply = () => undefined;
  readonly #offered = new Map<string, number>();
  readonly #server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo: (address, _session, callback) => {
      const n = (this.#offered.get(address.address) ?? 0) + 1;
      this.#offered.set(address.address, n);
      const reply = this.onRecipient(address.address, n);
      if (!reply) return callback();
      callback(Object.assign(new Error(reply.message), { responseCode: reply.code }));
    },
    onData: (stream, session, callback) => {
      simpleParser(stream)
        .then((mail) => {
          this.received.push({
            to: session.envelope.rcptTo.map((r) => r.address),
            from: mail.from?.text ?? '',
            subject: mail.subject ?? '',
            text: mail.text ?? '',
            html: typeof mail.html === 'string' ? mail.html : '',
            messageId: mail.messageId,
          });
          callback();
        })
        .catch(callback);
    },
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `smtp://127.0.0.1:${(this.#server.server.address() as AddressInfo).port}`;
  }

  to(address: string): ReceivedMail[] {
    return this.received.filter((m) => m.to.includes(address));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
