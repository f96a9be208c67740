"""Vehicle data: the VIN, the car's build, its service history, what is due and what is open."""
