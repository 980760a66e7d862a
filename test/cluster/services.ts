/**
 * The services the cluster tests use, as scripts/cluster-services.sh started them (its env.sh is
 * sourced by scripts/test-cluster.sh). A test whose service is not running is skipped, with the reason.
 */
import { randomBytes } from 'node:crypto';

export const S3_ENDPOINT = process.env['IQLP_TEST_S3_ENDPOINT'];
export const S3_BUCKET = process.env['IQLP_TEST_S3_BUCKET'] ?? 'iqlp-test';
export const RAY_ADDRESS = process.env['IQLP_TEST_RAY_ADDRESS'];
export const MLFLOW_URI = process.env['IQLP_TEST_MLFLOW_URI'];
export const CLUSTER_DIR = process.env['IQLP_TEST_CLUSTER_DIR'];

const why = (name: string) => `${name} is not running (scripts/test-cluster.sh starts it)`;
export const skipS3 = S3_ENDPOINT ? false : why('the S3 server');
export const skipRay = S3_ENDPOINT && RAY_ADDRESS ? false : why('the Ray cluster');
export const skipMlflow = S3_ENDPOINT && MLFLOW_URI ? false : why('MLflow with PostgreSQL');

/** A fresh remote under the test bucket (one prefix per test, so tests never see each other's entries). */
export function freshRemote(label: string): { url: string; endpoint: string } {
  return { url: `s3://${S3_BUCKET}/${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`, endpoint: S3_ENDPOINT! };
}
