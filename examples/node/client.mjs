#!/usr/bin/env node
// A Concerto client on the Node.js gRPC stack (@grpc/grpc-js, @grpc/proto-loader): TLS, a bearer
// token on every call, the service's own .proto files loaded at run time, and server reflection
// the way grpcurl uses it (list the services, then describe one from the descriptors the server
// sends back).
//
//   npm ci --prefix examples/node
//   CONCERTO_SERVER=localhost:50051 CONCERTO_TLS_CA=ca.crt CONCERTO_TOKEN=... \
//     node examples/node/client.mjs <network-id>
//
// Environment:
//   CONCERTO_SERVER           host:port of the server (default localhost:50051)
//   CONCERTO_TLS_CA           PEM CA certificates the server's certificate must chain to (required:
//                             this client speaks TLS only)
//   CONCERTO_TOKEN            the bearer token, sent as "authorization: Bearer <token>" (required)
//   CONCERTO_TLS_SERVER_NAME  the name the server's certificate carries, when it differs from the
//                             host of CONCERTO_SERVER (optional)
//   CONCERTO_PROTO_DIR        the directory holding concerto/v1/*.proto (default: the repository's
//                             proto/ next to examples/)
//   CONCERTO_DEADLINE_SECONDS deadline of every call (default 30)
//
// It prints one JSON document on stdout: the networks, the given network's latest version, its
// latest plan, that plan's decisions, and what reflection says. When a call fails it prints
// "<call> failed: <STATUS_CODE_NAME>: <details>" on stderr and exits 1 (2 for bad usage).

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

// CommonJS resolution, so that NODE_PATH can point at node_modules installed elsewhere (ES module
// resolution ignores NODE_PATH); next to this file, `npm ci --prefix examples/node` is found too.
const require = createRequire(import.meta.url);
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");

const HERE = path.dirname(fileURLToPath(import.meta.url));
const LOADER_OPTIONS = {
  keepCase: true, // field names as in the .proto files: network_id, plan_version
  longs: String,
  enums: String, // enum values by name: "DECISION_STATE_PENDING"
  defaults: true,
  oneofs: true,
};

const STATUS_NAMES = Object.fromEntries(
  Object.entries(grpc.status).map(([name, code]) => [code, name]),
);

class CallFailed extends Error {
  constructor(call, error) {
    const code = STATUS_NAMES[error.code] ?? `CODE_${error.code}`;
    super(`${call} failed: ${code}: ${error.details ?? error.message}`);
    this.code = code;
  }
}

function usage(message) {
  process.stderr.write(`${message}\nusage: node client.mjs <network-id>\n`);
  process.exit(2);
}

function settings() {
  const networkId = process.argv[2];
  if (!networkId) usage("a network id is required");
  const caPath = process.env.CONCERTO_TLS_CA;
  if (!caPath) usage("CONCERTO_TLS_CA must name the PEM CA certificates the server's certificate chains to");
  const token = process.env.CONCERTO_TOKEN;
  if (!token) usage("CONCERTO_TOKEN must hold the bearer token");
  const deadline = Number(process.env.CONCERTO_DEADLINE_SECONDS ?? "30");
  if (!(deadline > 0)) usage("CONCERTO_DEADLINE_SECONDS must be a positive number");
  let ca;
  try {
    ca = readFileSync(caPath);
  } catch (error) {
    usage(`CONCERTO_TLS_CA: cannot read ${caPath}: ${error.message}`);
  }
  return {
    networkId,
    ca,
    token,
    deadlineSeconds: deadline,
    server: process.env.CONCERTO_SERVER || "localhost:50051",
    serverName: process.env.CONCERTO_TLS_SERVER_NAME || undefined,
    protoDir: process.env.CONCERTO_PROTO_DIR || path.resolve(HERE, "..", "..", "proto"),
  };
}

function connect(Client, config) {
  const options = config.serverName ? { "grpc.ssl_target_name_override": config.serverName } : {};
  return new Client(config.server, grpc.credentials.createSsl(config.ca), options);
}

function bearer(token) {
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${token}`);
  return metadata;
}

function deadline(config) {
  return new Date(Date.now() + config.deadlineSeconds * 1000);
}

/** One unary call as a promise; a failure becomes a CallFailed naming the call and status code. */
function unary(client, method, request, config) {
  return new Promise((resolve, reject) => {
    client[method](request, bearer(config.token), { deadline: deadline(config) }, (error, response) => {
      if (error) reject(new CallFailed(method, error));
      else resolve(response);
    });
  });
}

// ------------------------------------------------------------------------------------ reflection

/** Reads the varint at `offset` of `bytes`: [value, next offset]. */
function varint(bytes, offset) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[offset++];
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [value, offset];
    shift += 7;
  }
}

/** The name (field 1) and dependencies (field 3) of a serialized FileDescriptorProto. */
function fileNameAndDependencies(bytes) {
  let name = "";
  const dependencies = [];
  let offset = 0;
  while (offset < bytes.length) {
    let key;
    [key, offset] = varint(bytes, offset);
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) {
      [, offset] = varint(bytes, offset);
    } else if (wire === 1) {
      offset += 8;
    } else if (wire === 5) {
      offset += 4;
    } else if (wire === 2) {
      let length;
      [length, offset] = varint(bytes, offset);
      const text = () => Buffer.from(bytes.subarray(offset, offset + length)).toString("utf8");
      if (field === 1) name = text();
      if (field === 3) dependencies.push(text());
      offset += length;
    } else {
      throw new Error(`unsupported wire type ${wire} in a FileDescriptorProto`);
    }
  }
  return { name, dependencies };
}

/** A FileDescriptorSet (field 1: repeated FileDescriptorProto) made of serialized files. */
function fileDescriptorSet(files) {
  const parts = [];
  for (const file of files) {
    const length = [];
    let n = file.length;
    while (n >= 0x80) {
      length.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    length.push(n);
    parts.push(Buffer.from([0x0a, ...length]), Buffer.from(file));
  }
  return Buffer.concat(parts);
}

/**
 * grpcurl's `list` and `describe` over one reflection stream with the bearer token: the services
 * the server lists, then the file declaring `describe` and its dependencies (asking by file name
 * for any the server did not send), loaded as a package definition to name the service's methods.
 */
async function reflect(config, describe) {
  const reflectionDefinition = protoLoader.loadSync(path.join(HERE, "reflection.proto"), LOADER_OPTIONS);
  const { ServerReflection } = grpc.loadPackageDefinition(reflectionDefinition).grpc.reflection.v1alpha;
  const client = connect(ServerReflection, config);
  const call = client.ServerReflectionInfo(bearer(config.token), { deadline: deadline(config) });
  const responses = [];
  let waiting = null;
  let failure = null;
  let ended = false;
  const wake = () => {
    if (waiting) {
      const resolve = waiting;
      waiting = null;
      resolve();
    }
  };
  call.on("data", (response) => {
    responses.push(response);
    wake();
  });
  call.on("error", (error) => {
    failure = new CallFailed("ServerReflectionInfo", error);
    wake();
  });
  call.on("end", () => {
    ended = true;
    wake();
  });
  const ask = async (request) => {
    call.write(request);
    while (responses.length === 0) {
      if (failure) throw failure;
      if (ended) throw new Error("ServerReflectionInfo ended without an answer");
      await new Promise((resolve) => {
        waiting = resolve;
      });
    }
    const response = responses.shift();
    if (response.message_response === "error_response") {
      const { error_code: code, error_message: message } = response.error_response;
      throw new Error(`reflection: ${STATUS_NAMES[code] ?? code}: ${message}`);
    }
    return response;
  };
  try {
    const listed = await ask({ list_services: "" });
    const services = listed.list_services_response.service.map((s) => s.name).sort();
    const files = new Map();
    const take = (response) => {
      for (const bytes of response.file_descriptor_response.file_descriptor_proto) {
        const { name } = fileNameAndDependencies(bytes);
        if (!files.has(name)) files.set(name, bytes);
      }
    };
    take(await ask({ file_containing_symbol: describe }));
    for (let missing = true; missing; ) {
      missing = false;
      for (const bytes of [...files.values()]) {
        for (const dependency of fileNameAndDependencies(bytes).dependencies) {
          if (!files.has(dependency)) {
            take(await ask({ file_by_filename: dependency }));
            missing = true;
          }
        }
      }
    }
    const described = protoLoader.loadFileDescriptorSetFromBuffer(fileDescriptorSet(files.values()), LOADER_OPTIONS);
    const methods = Object.values(described[describe] ?? {})
      .map((method) => method.path.split("/").pop())
      .sort();
    return { services, described: describe, methods, files: [...files.keys()].sort() };
  } finally {
    call.end();
    client.close();
  }
}

// ------------------------------------------------------------------------------------ the service

async function summarize(config) {
  const definition = protoLoader.loadSync("concerto/v1/service.proto", {
    ...LOADER_OPTIONS,
    includeDirs: [config.protoDir], // google/protobuf/timestamp.proto: proto-loader ships it
  });
  const { Concerto } = grpc.loadPackageDefinition(definition).concerto.v1;
  const client = connect(Concerto, config);
  try {
    const id = config.networkId;
    const listed = await unary(client, "ListNetworks", {}, config);
    const network = await unary(client, "GetNetwork", { network_id: id, version: 0 }, config);
    const plan = await unary(client, "GetPlan", { network_id: id, version: 0 }, config);
    const decisions = await unary(client, "ListDecisions", { network_id: id, plan_version: plan.version }, config);
    const reflection = await reflect(config, "concerto.v1.Concerto");
    return {
      server: config.server,
      networks: listed.networks.map((n) => ({
        network_id: n.network_id,
        name: n.name,
        latest_version: n.latest_version,
        plan_versions: n.plan_versions,
      })),
      network: {
        network_id: network.network_id,
        version: network.version,
        name: network.network?.name ?? "",
        has_protocols: network.has_protocols,
        created_by: network.created_by,
      },
      plan: {
        version: plan.version,
        network_version: plan.network_version,
        baseline_version: plan.baseline_version,
        status: plan.plan.status,
        objective: plan.plan.objective,
        decisions: plan.plan.decisions.length,
        signals: plan.signals.map((s) => s.id),
      },
      decisions: decisions.decisions.map((d) => ({
        index: d.index,
        state: d.state,
        approver: d.approver,
        escalation: d.escalation,
        action: d.decision.action,
        resource: d.decision.resource,
        item: d.decision.item,
        period: d.decision.period,
        quantity: d.decision.quantity,
      })),
      reflection,
    };
  } finally {
    client.close();
  }
}

try {
  const summary = await summarize(settings());
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
} catch (error) {
  process.stderr.write(`${error instanceof CallFailed ? error.message : `error: ${error.stack ?? error}`}\n`);
  process.exitCode = 1;
}
