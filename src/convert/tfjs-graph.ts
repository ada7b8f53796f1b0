// `nsynth convert --to tfjs-graph`: a TensorFlow.js GraphModel that tfjs runs on its own
// (`tf.loadGraphModel`, any backend). The graph comes from graph/tfjs-graph.ts, the evaluator that
// writes NodeDefs for wavenet.ts; this file lays it out as model.json (topology, signature, config)
// and weight shards, and reads such folders from disk for tfjs in Node (tfjsFileHandler).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as Tf from '@tensorflow/tfjs-core';
import { buildTfjsGraph, type TfjsGraph, type TfjsGraphPart, type TfTensorInfo } from '../graph/tfjs-graph.js';
import type { Weights } from '../model/weights.js';
import { TFJS_GENERATED_BY } from '../formats/output-folder.js';
import { graphUses, modelJsonPath, readWeightGroups, writeWeightShards } from './tfjs.js';

export interface TfjsGraphExportOptions {
  part?: TfjsGraphPart;
  /** Parameters as float16 (half the bytes; tfjs decodes them to float32). Graph constants stay exact. */
  dtype?: 'f32' | 'f16';
  shardBytes?: number;
  writeFile: (file: string, data: Uint8Array | string) => void;
}

export interface TfjsGraphExport {
  part: TfjsGraphPart;
  nodes: number;
  parameters: number;
  inputs: Record<string, TfTensorInfo>;
  outputs: Record<string, TfTensorInfo>;
}

/** model.json's signature: TensorInfo protos (name, dtype, tensorShape) by key. */
function signatureOf(infos: Record<string, TfTensorInfo>) {
  return Object.fromEntries(
    Object.entries(infos).map(([key, t]) => [
      key,
      { name: t.name, dtype: t.dtype, tensorShape: { dim: t.shape.map((d) => ({ size: String(d) })) } },
    ]),
  );
}

/** Writes `part` of the autoencoder (default: the whole of it) as a tfjs GraphModel into `dir`. */
export async function writeTfjsGraphModel(
  dir: string,
  w: Weights,
  o: TfjsGraphExportOptions,
): Promise<TfjsGraphExport> {
  return writeTfjsGraph(dir, w, await buildTfjsGraph(w, o.part ?? 'autoencoder'), o);
}

/** Writes a graph built by buildTfjsGraph (synchronously, for writeDirAtomic). */
export function writeTfjsGraph(
  dir: string,
  w: Weights,
  graph: TfjsGraph,
  o: Omit<TfjsGraphExportOptions, 'part'>,
): TfjsGraphExport {
  const entries = graph.consts.map((k) => ({
    name: k.name,
    shape: k.shape,
    data: k.data,
    half: k.parameter && o.dtype === 'f16',
  }));
  const describe = (infos: Record<string, TfTensorInfo>) =>
    Object.fromEntries(Object.entries(infos).map(([k, t]) => [k, t.description]));
  const modelJson = {
    format: 'graph-model',
    generatedBy: TFJS_GENERATED_BY,
    convertedBy: `nsynth convert --to tfjs-graph --part ${graph.part}`,
    modelTopology: { node: graph.nodes, library: {}, versions: {} },
    signature: { inputs: signatureOf(graph.inputs), outputs: signatureOf(graph.outputs) },
    userDefinedMetadata: {
      nsynthConfig: w.config,
      nsynthPart: graph.part,
      nsynthInputs: describe(graph.inputs),
      nsynthOutputs: describe(graph.outputs),
    },
    weightsManifest: writeWeightShards(dir, entries, o),
  };
  o.writeFile(path.join(dir, 'model.json'), `${JSON.stringify(modelJson)}\n`);
  return {
    part: graph.part,
    nodes: graph.nodes.length,
    parameters: graph.consts.filter((k) => k.parameter).length,
    inputs: graph.inputs,
    outputs: graph.outputs,
  };
}

/**
 * What tf.loadGraphModel takes (tfjs's io.IOHandler, whose load() resolves to its ModelArtifacts),
 * spelled out so that these declarations type-check where the optional tfjs packages are absent.
 */
export interface TfjsLoadHandler {
  // biome-ignore lint/suspicious/noExplicitAny: tfjs's ModelArtifacts, not named here (see above)
  load(): Promise<any>;
}

/**
 * A tfjs IOHandler that loads a model folder (or model.json) from disk, for `tf.loadGraphModel` in
 * Node without tfjs-node: `await tf.loadGraphModel(tfjsFileHandler('out/model'))`. tfjs-core is
 * imported when the model is loaded, and the backend the caller chose is left alone.
 */
export function tfjsFileHandler(p: string): TfjsLoadHandler {
  return {
    load: async (): Promise<Tf.io.ModelArtifacts> => {
      const file = modelJsonPath(p);
      let json: Tf.io.ModelJSON;
      try {
        json = JSON.parse(fs.readFileSync(file, 'utf8'));
      } catch (e) {
        throw new Error(
          `${file}: not a readable model.json (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        );
      }
      if (typeof json !== 'object' || json === null || Array.isArray(json) || !json.modelTopology)
        throw new Error(`${file}: not a TensorFlow.js model.json (no modelTopology)`);
      if (!Array.isArray((json.modelTopology as { node?: unknown }).node))
        throw new Error(`${file}: modelTopology.node is not a list (not a graph model)`);
      graphUses(json, file); // every NodeDef well formed
      // The same checks as conversion: groups, shard paths, entries, and bytes that match exactly.
      const groups = readWeightGroups(json.weightsManifest, file);
      const tf = await import('@tensorflow/tfjs-core');
      return tf.io.getModelArtifactsForJSON(json, async () => {
        const all = new Uint8Array(groups.reduce((n, g) => n + g.buffer.length, 0));
        let at = 0;
        for (const g of groups) {
          all.set(g.buffer, at);
          at += g.buffer.length;
        }
        return [groups.flatMap((g) => g.specs) as Tf.io.WeightsManifestEntry[], all.buffer as ArrayBuffer];
      });
    },
  };
}
