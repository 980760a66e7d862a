// Creates a bucket through the S3 API (credentials from the AWS environment); exits 0 when it exists.
//   node scripts/s3-make-bucket.mjs <endpoint> <bucket>
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';

const [endpoint, bucket] = process.argv.slice(2);
const s3 = new S3Client({ endpoint, forcePathStyle: true, region: process.env.AWS_REGION || 'us-east-1', maxAttempts: 2 });
try {
  await s3.send(new HeadBucketCommand({ Bucket: bucket }));
} catch {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
}
s3.destroy();
