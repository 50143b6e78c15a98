"""Travel between places: the branches' road data (OpenStreetMap extracts built into OSRM's files under the var folder)
and the provider of each branch's travel times."""
