// Pictures of a model and its training, for apps that have node-canvas. Importing this module
// does not load canvas: each render function loads it on first use and throws an install hint
// when it is missing. The plan/raster helpers are plain code and work without it.
export { loadCanvas, hasCanvas, readPng, pixel, CANVAS_MISSING, type Raster, type RGB } from './canvas.js';
export {
  renderFilterSheet, planFilterSheet, filterGridRaster, legendRaster, convWeightFromCheckpoint, checkpointLayers,
  asConvWeight, valueRange, toUnit, colorize, tileOrigin, filterSheetTitle, scaleCaption, SCALE_MODES, COLOR_MAPS,
  type ConvWeight, type FilterSheetOptions, type FilterSheetPlan, type FilterSheetInfo, type PlannedTile,
  type ScaleMode, type ColorMapName, type ChannelView,
} from './filters.js';
export {
  renderCurves, planCurves, parseMetricsJsonl, niceAxis, niceStep, formatTick, formatValue,
  type EpochMetrics, type CurvesOptions, type CurvesPlan, type CurvesInfo,
} from './curves.js';
export { renderConfusion, checkConfusion, confusionStats, cellColor, type ConfusionOptions, type ConfusionInfo } from './confusion.js';
export { renderMisclassified, planDigits, digitRaster, type Misclassified, type DigitsOptions, type DigitsInfo } from './digits.js';
export { renderReconstructions, planReconstructions, reconstructionRaster, tileAt, type ReconstructionOptions, type ReconstructionPlan } from './reconstructions.js';
