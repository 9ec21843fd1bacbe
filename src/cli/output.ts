import { writeFileSync } from "node:fs";

/** Where a command writes: stdout for results, stderr for prompts and messages (so results can be piped). */
export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export function printJson(io: Io, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export type Column<T> = [header: string, cell: (row: T) => string];

/**
 * A plain text table with a header line, columns padded to their widest cell: readable in a
 * terminal and still easy to cut or awk. Cells never contain newlines (they are replaced).
 */
export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map(([, cell]) => cell(row).replace(/[\r\n\t]+/g, " ")));
  const headers = columns.map(([header]) => header);
  const widths = headers.map((header, i) => Math.max(header.length, ...cells.map((line) => line[i].length)));
  const render = (line: string[]) => line.map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i]))).join("  ").trimEnd();
  return [render(headers), ...cells.map(render)].join("\n") + "\n";
}

export function printTable<T>(io: Io, rows: readonly T[], columns: readonly Column<T>[], empty: string): void {
  if (rows.length === 0) io.stdout.write(`${empty}\n`);
  else io.stdout.write(formatTable(rows, columns));
}

/** Writes a result (a certificate, a request, a signature: nothing secret) to --out FILE, or to stdout. */
export function writeResult(io: Io, data: string | Uint8Array, out: string | undefined): void {
  if (out === undefined) io.stdout.write(data);
  else writeFileSync(out, data);
}
