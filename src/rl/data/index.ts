/** Public entry of the offline datasets: Arrow schema/conversions, maze2d and locomotion generators, HDF5 loader, coverage. */
export {
  transitionsToTable,
  tableToTransitions,
  tableInfos,
  datasetMetadata,
  validateTransitions,
  columnToFloat32,
  flagColumnToFloat32,
  DATASET_COLUMNS,
  type Transitions,
  type DatasetInfos,
  type DatasetSource,
  type TableExtra,
} from './dataset.js';
export { generateMaze2dDataset, type Maze2dGeneratorParams, type GeneratedDataset, type GenerateOptions } from './maze2d-generator.js';
export { loadHdf5Dataset, writeD4rlHdf5, type Hdf5LoadOptions, type Hdf5LoadResult, type Hdf5Format } from './hdf5.js';
export { computeCoverage, episodeRanges, type CoverageOptions, type CoverageResult, type CoverageSummary } from './coverage.js';
export {
  generateLocomotionDataset,
  resolveLocomotionParams,
  getOptimisedGait,
  type LocomotionGeneratorParams,
  type LocomotionBehaviour,
  type LocomotionDataset,
  type ResolvedLocomotionParams,
} from './locomotion-generator.js';
