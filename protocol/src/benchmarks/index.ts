export * from './kpis';
export * from './quantiles';
export * from './release';
export * from './vector';
