// Reads a password from the terminal without echoing it, so it stays out of shell history and `ps`.
import type { ReadStream } from 'node:tty';
import { CommandError } from './errors.js';

function readHidden(question: string): Promise<string> {
  const input = process.stdin as ReadStream;
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (error?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n' || char === '\u0004') return finish();
        if (char === '\u0003') return finish(new CommandError('Cancelled'));
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    input.setRawMode(true);
    input.resume();
    input.on('data', onData);
  });
}

export const canPrompt = (): boolean => process.stdin.isTTY === true;

/** Asks twice and insists that both answers match. */
export async function promptNewPassword(username: string): Promise<string> {
  const first = await readHidden(`Password for ${username}: `);
  const second = await readHidden('Repeat the password: ');
  if (first !== second) throw new CommandError('The two passwords do not match');
  return first;
}
