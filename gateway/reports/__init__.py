"""KPIs, satisfaction surveys and the supervisors' dashboard (docs/KPIS.md)."""
