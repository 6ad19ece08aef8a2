// The fractals' PNGs in object storage through the S3 API: moto's server locally, AWS S3 or any
// S3-compatible store by configuration. One object per uuid (fractalObjectKey), its render's facts in
// the object's user metadata, so a retried render can see that its PNG is already there.
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import type { Config } from '../../config.ts';
import { fractalObjectKey } from '../../workflows/fractals.shared.ts';

const PREFIX = 'fractals/';

export function createS3Client(storage: Config['fractals']['storage']): S3Client {
  return new S3Client({
    region: storage.region,
    endpoint: storage.endpoint,
    forcePathStyle: storage.forcePathStyle,
    credentials: storage.credentials,
    // Retries belong to Temporal's retry policy (render activities retry until they succeed).
    maxAttempts: 2,
  });
}

/** What a stored PNG says about its render (S3 user metadata). */
export interface FractalImageMetadata {
  checksum: string;
  /** Seconds the render took. */
  duration: number;
  generatedBy: string;
  /** Digest of the job the PNG was rendered from (render.ts renderJobDigest). */
  job?: string;
}

/** A stored PNG's metadata and its size in bytes. */
export interface StoredFractalImage extends FractalImageMetadata {
  size: number;
}

export interface FractalImageStore {
  readonly bucket: string;
  /** Creates the bucket when it is missing (moto forgets it at every restart). */
  ensureBucket(): Promise<void>;
  put(uuid: string, png: Uint8Array, metadata: FractalImageMetadata): Promise<void>;
  /** The stored PNG's metadata, or undefined when there is none. */
  head(uuid: string): Promise<StoredFractalImage | undefined>;
  /** The PNG, or undefined when there is none. */
  get(uuid: string): Promise<Buffer | undefined>;
  /** Removes the PNG; removing a missing one is not an error. */
  delete(uuid: string): Promise<void>;
  /** PNGs stored (objects under `fractals/`): the benchmark's check that no fractal was made twice. */
  count(): Promise<number>;
}

function isNotFound(error: unknown): boolean {
  if (!(error instanceof S3ServiceException)) return false;
  return error.name === 'NotFound' || error.name === 'NoSuchKey' || error.$metadata.httpStatusCode === 404;
}

export function createFractalImageStore({ s3, bucket }: { s3: S3Client; bucket: string }): FractalImageStore {
  return {
    bucket,
    async ensureBucket() {
      try {
        await s3.send(new HeadBucketCommand({ Bucket: bucket }));
        return;
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      const region = await s3.config.region();
      try {
        await s3.send(
          new CreateBucketCommand({
            Bucket: bucket,
            // us-east-1 is S3's default location and refuses to be named.
            ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
          }),
        );
      } catch (error) {
        // Another process (the other fractal workers, the API) made it meanwhile.
        if (!(error instanceof S3ServiceException && error.name === 'BucketAlreadyOwnedByYou')) throw error;
      }
    },
    async put(uuid, png, metadata) {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: fractalObjectKey(uuid),
          Body: png,
          ContentType: 'image/png',
          ContentLength: png.byteLength,
          Metadata: {
            checksum: metadata.checksum,
            duration: String(metadata.duration),
            'generated-by': metadata.generatedBy,
            ...(metadata.job ? { job: metadata.job } : {}),
          },
        }),
      );
    },
    async head(uuid) {
      try {
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: fractalObjectKey(uuid) }));
        const meta = head.Metadata ?? {};
        return {
          checksum: meta.checksum ?? '',
          duration: Number(meta.duration ?? 0),
          generatedBy: meta['generated-by'] ?? '',
          ...(meta.job ? { job: meta.job } : {}),
          size: head.ContentLength ?? 0,
        };
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    async get(uuid) {
      try {
        const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: fractalObjectKey(uuid) }));
        const bytes = await object.Body!.transformToByteArray();
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    async delete(uuid) {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: fractalObjectKey(uuid) }));
    },
    async count() {
      let total = 0;
      for await (const page of paginateListObjectsV2({ client: s3, pageSize: 1000 }, { Bucket: bucket, Prefix: PREFIX })) total += page.KeyCount ?? 0;
      return total;
    },
  };
}

/** The store the configuration names: its endpoint, keys and bucket (the API's, the workers', the tests'). */
export function fractalImageStoreFor(storage: Config['fractals']['storage']): FractalImageStore {
  return createFractalImageStore({ s3: createS3Client(storage), bucket: storage.bucket });
}
