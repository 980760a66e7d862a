/**
 * The remote store: the local store's content-addressed layout on any S3-API server (AWS, MinIO,
 * SeaweedFS, Ceph), shared by a team and by the nodes of a cluster. Under `s3://bucket/prefix/`:
 *
 *   blobs/<aa>/<sha256>            output files, by content digest (identical outputs are stored once)
 *   entries/<key>.json             an entry's manifest (the local manifest.json), written last
 *   checkpoints/<key>/step-N/...   checkpoints of an unfinished instance (remote-checkpoint.ts)
 *   locks/<key>.json               who is computing an entry (remote-lock.ts)
 *   tasks/<key>.json               an instance task for a cluster node (src/executors/)
 *   pipelines/<name>.json          the last run of each pipeline (what `status` compares against)
 *   trash/                         manifests set aside because a blob they name was corrupt
 *
 * A commit uploads the blobs first and the manifest last with a conditional put (If-None-Match: *):
 * an entry is visible only when complete, and when two writers race the first one wins. A blob is
 * verified against its digest when it is fetched; a mismatch sets the entry aside (CorruptBlob)
 * so that it is recomputed. Credentials come only from the standard AWS chain (environment,
 * ~/.aws/config and credentials, instance roles); the pipeline file names an endpoint at most.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { CorruptBlob, RemoteUnavailable } from './remote-errors.js';
import type { Manifest } from './store.js';

export interface RemoteSpec {
  /** s3://bucket/prefix */
  url: string;
  /** S3 endpoint of a non-AWS server; AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL override it. */
  endpoint?: string;
  region?: string;
}

export { CorruptBlob, RemoteUnavailable };

// The SDK warns on every process that Node 20 will not be supported by its releases after 2027-01;
// this project runs on Node >= 20 with the SDK version it pins, so the warning is noise in every command.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

export function parseRemoteUrl(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) throw new Error(`a remote must be an s3:// URL (s3://bucket/prefix), got '${url}'`);
  return { bucket: m[1]!, prefix: m[2]!.replace(/\/+$/, '') };
}

/** Endpoint and region as the SDK will use them: the standard variables win over the file's values. */
export function resolveSpec(spec: RemoteSpec): Required<Pick<RemoteSpec, 'url' | 'region'>> & { endpoint?: string } {
  parseRemoteUrl(spec.url);
  const endpoint = process.env['AWS_ENDPOINT_URL_S3'] || process.env['AWS_ENDPOINT_URL'] || spec.endpoint || undefined;
  const region = process.env['AWS_REGION'] || process.env['AWS_DEFAULT_REGION'] || spec.region || 'us-east-1';
  return { url: spec.url, region, ...(endpoint ? { endpoint } : {}) };
}

const isNotFound = (e: unknown) => {
  const x = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return x.name === 'NoSuchKey' || x.name === 'NotFound' || x.$metadata?.httpStatusCode === 404;
};
const isPreconditionFailed = (e: unknown) => {
  const x = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return x.name === 'PreconditionFailed' || x.$metadata?.httpStatusCode === 412 || x.name === 'ConditionalRequestConflict' || x.$metadata?.httpStatusCode === 409;
};

export class RemoteStore {
  readonly url: string;
  readonly spec: RemoteSpec;
  private readonly s3: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly where: string;

  constructor(spec: RemoteSpec) {
    const r = resolveSpec(spec);
    this.spec = spec;
    this.url = spec.url;
    ({ bucket: this.bucket, prefix: this.prefix } = parseRemoteUrl(spec.url));
    this.where = `${spec.url}${r.endpoint ? ` at ${r.endpoint}` : ''}`;
    this.s3 = new S3Client({
      region: r.region,
      ...(r.endpoint ? { endpoint: r.endpoint, forcePathStyle: true } : {}),
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 3000, requestTimeout: 60_000 },
      // S3-compatible servers differ in their support of the newer default checksums.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  /** For messages: the URL and endpoint. */
  describe(): string {
    return this.where;
  }

  close(): void {
    this.s3.destroy();
  }

  path(...parts: string[]): string {
    return [this.prefix, ...parts].filter(Boolean).join('/');
  }

  /** Runs one S3 call; a network or auth failure becomes a RemoteUnavailable that says where. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (isNotFound(e) || isPreconditionFailed(e)) throw e;
      const x = e as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      const status = x.$metadata?.httpStatusCode;
      const why = x.name === 'NoSuchBucket' ? `bucket '${this.bucket}' does not exist`
        : status === 403 || x.name === 'AccessDenied' || x.name === 'InvalidAccessKeyId' || x.name === 'SignatureDoesNotMatch' ? `access denied (${x.name}): check the AWS credentials in the environment or ~/.aws`
        : x.name === 'CredentialsProviderError' ? `no AWS credentials (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE): ${x.message}`
        : `${x.code ?? x.name ?? 'error'}: ${x.message ?? String(e)}`;
      throw new RemoteUnavailable(`remote store ${this.where}: ${what} failed: ${why}`);
    }
  }

  async getText(path: string): Promise<string | null> {
    try {
      const r = await this.call(`reading ${path}`, () => this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: path })));
      return await r.Body!.transformToString('utf8');
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  /** Writes a small object; with `ifAbsent` only when no object has that name yet (false: someone else's is there). */
  async putText(path: string, text: string, opts: { ifAbsent?: boolean } = {}): Promise<boolean> {
    try {
      await this.call(`writing ${path}`, () => this.s3.send(new PutObjectCommand({
        Bucket: this.bucket, Key: path, Body: text, ContentType: 'application/json', ...(opts.ifAbsent ? { IfNoneMatch: '*' } : {}),
      })));
      return true;
    } catch (e) {
      if (opts.ifAbsent && isPreconditionFailed(e)) return false;
      throw e;
    }
  }

  async head(path: string): Promise<{ bytes: number; modified: Date } | null> {
    try {
      const r = await this.call(`checking ${path}`, () => this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: path })));
      return { bytes: r.ContentLength ?? 0, modified: r.LastModified ?? new Date(0) };
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  async delete(path: string): Promise<void> {
    await this.call(`deleting ${path}`, () => this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: path })));
  }

  /** Every object under `dir/` (paths relative to the store's prefix), with sizes. */
  async list(dir: string): Promise<{ path: string; bytes: number; modified: Date }[]> {
    const out: { path: string; bytes: number; modified: Date }[] = [];
    const base = `${this.path(dir)}/`;
    const strip = this.prefix ? this.prefix.length + 1 : 0;
    let token: string | undefined;
    do {
      const r = await this.call(`listing ${base}`, () => this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: base, ContinuationToken: token })));
      for (const o of r.Contents ?? []) out.push({ path: o.Key!.slice(strip), bytes: o.Size ?? 0, modified: o.LastModified ?? new Date(0) });
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  // ------------------------------------------------------------- entries

  private entryPath(key: string): string {
    return this.path('entries', `${key}.json`);
  }

  async readManifest(key: string): Promise<Manifest | null> {
    const text = await this.getText(this.entryPath(key));
    if (text === null) return null;
    try {
      const m = JSON.parse(text) as Manifest;
      return m.key === key ? m : null;
    } catch {
      return null;
    }
  }

  /** The manifest, after its blobs; 'exists' when another writer committed the entry first. */
  async putManifest(m: Manifest): Promise<'written' | 'exists'> {
    return (await this.putText(this.entryPath(m.key), JSON.stringify(m, null, 2), { ifAbsent: true })) ? 'written' : 'exists';
  }

  /** Keys of every committed entry (one listing, not one request per entry). */
  async listEntryKeys(): Promise<Set<string>> {
    return new Set((await this.list('entries')).map((o) => o.path.slice('entries/'.length)).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)));
  }

  async removeEntry(key: string): Promise<void> {
    await this.delete(this.entryPath(key));
  }

  /** Moves a manifest whose blob turned out corrupt to trash/, so the entry is a miss and gets recomputed. */
  async quarantine(key: string, reason: string): Promise<void> {
    const text = await this.getText(this.entryPath(key));
    if (text !== null) await this.putText(this.path('trash', `${key}-${Date.now()}-${randomBytes(3).toString('hex')}.json`), JSON.stringify({ reason, manifest: JSON.parse(text) as unknown }));
    await this.removeEntry(key);
  }

  // ------------------------------------------------------------- blobs

  blobPath(digest: string): string {
    return this.path('blobs', digest.slice(0, 2), digest);
  }

  async hasBlob(digest: string, bytes: number): Promise<boolean> {
    const h = await this.head(this.blobPath(digest));
    return h !== null && h.bytes === bytes;
  }

  /** Uploads a file as the blob of `digest` (multipart for big files). */
  async putBlob(digest: string, file: string): Promise<void> {
    await this.call(`uploading blob ${digest.slice(0, 12)}`, () => new Upload({
      client: this.s3, params: { Bucket: this.bucket, Key: this.blobPath(digest), Body: createReadStream(file) }, queueSize: 2, partSize: 16 * 2 ** 20,
    }).done());
  }

  /** Downloads a blob to `dest` (atomically) and checks its size and sha256; CorruptBlob when they differ. */
  async fetchBlob(digest: string, bytes: number, dest: string): Promise<void> {
    await this.fetchObject(this.blobPath(digest), dest, { digest, bytes });
  }

  /** Downloads an object to `dest` via a temp file; with `expect`, verifies it first. */
  async fetchObject(path: string, dest: string, expect?: { digest: string; bytes: number }): Promise<void> {
    mkdirSync(dirname(dest), { recursive: true });
    const tmp = `${dest}.${process.pid}-${randomBytes(3).toString('hex')}.part`;
    try {
      const r = await this.call(`downloading ${path}`, () => this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: path })));
      const hash = createHash('sha256');
      const body = r.Body as Readable;
      body.on('data', (c: Buffer) => hash.update(c));
      await pipeline(body, createWriteStream(tmp));
      if (expect) {
        const size = statSync(tmp).size;
        const got = hash.digest('hex');
        if (size !== expect.bytes || got !== expect.digest) {
          throw new CorruptBlob(`blob ${expect.digest.slice(0, 12)} in ${this.where} is corrupt (${size} bytes, sha256 ${got.slice(0, 12)}; expected ${expect.bytes} bytes)`, expect.digest);
        }
      }
      renameSync(tmp, dest);
    } catch (e) {
      rmSync(tmp, { force: true });
      if (isNotFound(e) && expect) throw new CorruptBlob(`blob ${expect.digest.slice(0, 12)} is missing from ${this.where}`, expect.digest);
      throw e;
    }
  }

  /** Uploads a small file as-is (checkpoint files). */
  async putFile(path: string, file: string): Promise<void> {
    await this.call(`uploading ${path}`, () => new Upload({ client: this.s3, params: { Bucket: this.bucket, Key: path, Body: createReadStream(file) } }).done());
  }

  async listBlobs(): Promise<Map<string, number>> {
    return new Map((await this.list('blobs')).map((o) => [o.path.split('/').pop()!, o.bytes]));
  }

  // ------------------------------------------------------------- pipeline states, tasks

  async readJson<T>(path: string): Promise<T | null> {
    const t = await this.getText(this.path(path));
    return t === null ? null : (JSON.parse(t) as T);
  }

  async writeJson(path: string, value: unknown, opts: { ifAbsent?: boolean } = {}): Promise<boolean> {
    return this.putText(this.path(path), JSON.stringify(value), opts);
  }
}
