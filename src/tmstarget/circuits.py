"""Compatibility alias of :mod:`tmstarget.targeting.circuits` (``cli/commands/coil.py`` imports it from here)."""

from .targeting.circuits import Circuit, SGACC_MNI, SGACC_RADIUS_MM, fetch_convergent, load_circuit_map, resolve_circuit, sphere_mask

__all__ = ["Circuit", "SGACC_MNI", "SGACC_RADIUS_MM", "fetch_convergent", "load_circuit_map", "resolve_circuit", "sphere_mask"]
