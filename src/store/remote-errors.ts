/** The remote store's errors, in a module of their own so that code can recognise them without loading the S3 client. */

/** The remote store cannot be reached (or refuses us): nothing local is affected. */
export class RemoteUnavailable extends Error {
  override name = 'RemoteUnavailable';
}

/** A fetched blob does not have the digest (or size) its manifest records. */
export class CorruptBlob extends Error {
  override name = 'CorruptBlob';
  constructor(message: string, readonly digest: string) {
    super(message);
  }
}
