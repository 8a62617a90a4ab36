"""dxsim benchmarks: figures printed as ratios to raw ceilings measured in the same run."""
