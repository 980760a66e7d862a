/** Arrow IPC (file format) encoding, kept in one place so the store and the stages agree. */
import { tableFromIPC, tableToIPC, type Table } from 'apache-arrow';
import { readFile } from 'node:fs/promises';

export function encodeTable(table: Table): Uint8Array {
  return tableToIPC(table, 'file');
}

export function decodeTable(bytes: Uint8Array): Table {
  return tableFromIPC(bytes);
}

export async function readTableFile(path: string): Promise<Table> {
  return decodeTable(await readFile(path));
}
