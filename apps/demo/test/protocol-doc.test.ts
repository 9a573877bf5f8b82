// docs/protocol.md is the wire specification a third party writes a client from, so its tables
// must say what the code does: these tests read the tables and hold core's parsers and code
// tables to them (a field, code or class added on one side only fails here).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CloseCodes, ErrorClasses, parseClientMessage, parseServerMessage, type ReconnectAdvice } from "@open-ot/core";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../../scripts/readme-examples.mjs";

const doc = readFileSync(join(repoRoot, "docs", "protocol.md"), "utf8");

/** The body rows of the first Markdown table after `heading`, as trimmed cells. */
function tableAfter(heading: string): string[][] {
  const start = doc.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`docs/protocol.md has no heading "${heading}"`);
  const lines = doc.slice(start).split("\n");
  const first = lines.findIndex((line) => line.startsWith("|"));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(
      line
        .slice(1, -1)
        .split("|")
        .map((cell) => cell.trim()),
    );
  }
  return rows;
}

/** The names in backticks of a cell: "`docId`, `clientId?`" gives docId and clientId?. */
function names(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
}

/** A valid value for each field name the message tables use. */
const SAMPLE: Readonly<Record<string, unknown>> = {
  docId: "doc-1",
  clientId: "client-0123456789abcdef",
  revision: 3,
  batch: true,
  epoch: "epoch-1",
  restore: { data: "abc", seqs: { "author-1": 2 } },
  op: [{ r: 1 }, { i: "x" }],
  seq: 4,
  t: 7,
  data: "abc",
  docType: "text",
  lastSeq: 2,
  author: "author-1",
  code: "bad_message",
  message: "why",
  serverRevision: null,
};

/** Each message type of a table with its fields, split into required and optional. */
function messageTable(heading: string): { type: string; required: string[]; optional: string[] }[] {
  return tableAfter(heading).map(([typeCell = "", fieldsCell = ""]) => {
    const fields = names(fieldsCell);
    return {
      type: names(typeCell)[0] ?? "",
      required: fields.filter((f) => !f.endsWith("?")),
      optional: fields.filter((f) => f.endsWith("?")).map((f) => f.slice(0, -1)),
    };
  });
}

function build(type: string, fields: readonly string[]): Record<string, unknown> {
  const message: Record<string, unknown> = { type };
  for (const field of fields) {
    if (!(field in SAMPLE)) throw new Error(`no sample value for the documented field "${field}"`);
    message[field] = SAMPLE[field];
  }
  return message;
}

describe("docs/protocol.md against the code", () => {
  it("lists every error code once, with the class ErrorClasses gives it", () => {
    const rows = tableAfter("## Errors").map(([code = "", cls = ""]) => [names(code)[0], cls]);
    expect(Object.fromEntries(rows)).toEqual(ErrorClasses);
    expect(rows).toHaveLength(Object.keys(ErrorClasses).length);
  });

  it("lists every close code of CloseCodes, with a class that matches its reconnect advice", () => {
    const CLASS_OF: Record<ReconnectAdvice, string> = {
      stop: "final",
      "reconnect-now": "transient",
      backoff: "transient",
      "backoff-long": "transient",
      "retry-few": "transient, a few times",
      "renew-once": "final after one renewal",
    };
    const rows = tableAfter("## Close codes (WebSocket; the SSE binding sends them in a `close` event)");
    const documented = new Map<number, string>();
    for (const [code = "", cls = ""] of rows) {
      if (/^\d+$/.test(code)) documented.set(Number(code), cls);
    }
    // 1006 is not a code a server sends: the table's last row covers it with every unknown code.
    const sent = Object.values(CloseCodes).filter((info) => info.code !== 1006);
    expect([...documented.keys()].sort()).toEqual(sent.map((info) => info.code).sort());
    for (const info of sent) expect([info.code, documented.get(info.code)]).toEqual([info.code, CLASS_OF[info.advice]]);
    expect(rows.at(-1)?.[0]).toContain("1006");
  });

  for (const [heading, parse] of [
    ["### Client to server", parseClientMessage],
    ["### Server to client", parseServerMessage],
  ] as const) {
    it(`${heading.slice(4)}: the parser keeps every documented field, needs the required ones and no other`, () => {
      const table = messageTable(heading);
      expect(table.length).toBeGreaterThanOrEqual(4);
      for (const { type, required, optional } of table) {
        const full = parse(build(type, [...required, ...optional]));
        expect(full, `${type} with every documented field`).toMatchObject({ ok: true });
        if (full.ok) expect(Object.keys(full.message).sort(), type).toEqual(["type", ...required, ...optional].sort());
        expect(parse(build(type, required)), `${type} with only its required fields`).toMatchObject({ ok: true });
        for (const field of required) {
          const without = parse(
            build(
              type,
              required.filter((f) => f !== field),
            ),
          );
          expect(without, `${type} without "${field}"`).toMatchObject({ ok: false, error: { code: "bad_message" } });
        }
      }
    });
  }
});
