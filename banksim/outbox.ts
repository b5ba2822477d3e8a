/**
 * The simulated bank's outbox: every message the bank sends on its own (acknowledgments, status
 * reports, settlement notifications, returns, corrections, recall answers, statements), in the
 * order it sent them, each with an ID unique across the bank and the raw message as a bank would
 * deliver it. `GET /sim/outbox?rail=&after=<cursor>&limit=` pages through them; a collector keeps
 * the cursor of the last message it stored and asks for what came after.
 *
 * A cursor is the position of a message in the outbox (a decimal sequence number, opaque to the
 * client). A page filtered by rail ends with `next`: the last position it looked at, so the next
 * page never re-scans another rail's messages.
 */
import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';

export const OUTBOX_RAILS = ['ach', 'sepa', 'sepa_instant', 'swift', 'rtp'] as const;

/** What a message is, by its format: NACHA files and the ISO 20022 message names. */
export const OUTBOX_TYPES = ['ach.file_ack', 'nacha.return', 'pacs.002', 'pain.002', 'pacs.004', 'camt.054', 'camt.029', 'camt.053'] as const;
export type OutboxType = (typeof OUTBOX_TYPES)[number];

export interface OutboxMessage {
  /** Unique across the bank; ISO messages carry it as their GrpHdr/MsgId where the bank wrote them. */
  id: string;
  rail: string;
  type: OutboxType;
  /** When the bank sent it (the event's time: a settlement is sent as of when it settled). */
  createdAt: string;
  raw: string;
}

export const OUTBOX_PAGE_DEFAULT = 100;
export const OUTBOX_PAGE_MAX = 500;

export function createOutbox() {
  const messages: OutboxMessage[] = [];

  /** Appends one message; `write` gets the message's ID to put inside it. */
  function push(rail: string, type: OutboxType, atMs: number, write: (id: string) => string): OutboxMessage {
    const id = `SIM-${String(messages.length + 1).padStart(10, '0')}-${randomBytes(4).toString('hex')}`;
    const message = { id, rail, type, createdAt: new Date(atMs).toISOString(), raw: write(id) };
    messages.push(message);
    return message;
  }

  /** Messages after `after` (0: from the start), of `rail` when given, at most `limit`. */
  function page(rail: string | undefined, after: number, limit: number) {
    const data: (OutboxMessage & { cursor: string })[] = [];
    let position = after;
    while (position < messages.length && data.length < limit) {
      const message = messages[position++];
      if (rail === undefined || message.rail === rail) data.push({ ...message, cursor: String(position) });
    }
    return { data, next: String(position) };
  }

  const bad = (res: Response, param: string, message: string) => res.status(400).json({ error: { code: 'invalid_request', param, message } });

  /** `GET /sim/outbox`; `beforeRead` brings the bank's books up to now (settlements, returns, statements due). */
  function route(beforeRead: () => void) {
    return (req: Request, res: Response) => {
      const { rail, after, limit } = req.query;
      if (rail !== undefined && (typeof rail !== 'string' || !(OUTBOX_RAILS as readonly string[]).includes(rail))) {
        return bad(res, 'rail', `rail must be one of ${OUTBOX_RAILS.join(', ')}`);
      }
      let position = 0;
      if (after !== undefined) {
        if (typeof after !== 'string' || !/^(0|[1-9]\d{0,15})$/.test(after) || Number(after) > messages.length) {
          return bad(res, 'after', 'after must be a cursor this outbox returned');
        }
        position = Number(after);
      }
      let size = OUTBOX_PAGE_DEFAULT;
      if (limit !== undefined) {
        if (typeof limit !== 'string' || !/^\d{1,4}$/.test(limit) || Number(limit) < 1 || Number(limit) > OUTBOX_PAGE_MAX) {
          return bad(res, 'limit', `limit must be an integer from 1 to ${OUTBOX_PAGE_MAX}`);
        }
        size = Number(limit);
      }
      beforeRead();
      res.json(page(rail as string | undefined, position, size));
    };
  }

  return { messages, push, page, route };
}

export type Outbox = ReturnType<typeof createOutbox>;
