// nsynth-webgpu/convert: offline conversion (Node). TensorFlow checkpoints (V2 bundles) and
// TensorFlow.js models in, our weights, a tfjs weights manifest or a tfjs GraphModel out.
export {
  convertToWeights,
  detectInputKind,
  readNameMap,
  type ConvertOptions,
  type ConvertReport,
  type InputKind,
} from './convert.js';
export {
  TfBundle,
  resolveBundlePrefix,
  TF_DTYPES,
  type BundleEntry,
  type BundleHeader,
  type TensorValues,
} from './tf-bundle.js';
export {
  planMagentaMapping,
  buildWeights,
  sameLayout,
  type MappingOptions,
  type MappingPlan,
  type SourceTensor,
} from './magenta-checkpoint.js';
export {
  readTfjsModel,
  writeTfjsWeights,
  writeWeightShards,
  dilatedConvs,
  modelJsonPath,
  type TfjsModel,
  type TfjsTensor,
  type DilatedConv,
  type GraphUse,
} from './tfjs.js';
export {
  writeTfjsGraphModel,
  writeTfjsGraph,
  tfjsFileHandler,
  type TfjsLoadHandler,
  type TfjsGraphExport,
  type TfjsGraphExportOptions,
} from './tfjs-graph.js';
export {
  buildTfjsGraph,
  TFJS_GRAPH_PARTS,
  type TfjsGraph,
  type TfjsGraphPart,
  type TfTensorInfo,
} from '../graph/tfjs-graph.js';
export { snappyDecompress } from './snappy.js';
export { inspect, type InspectRow, type InspectReport } from './inspect.js';
export { writeDirAtomic } from '../formats/atomic-write.js';
