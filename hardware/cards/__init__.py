"""Card sources: PC/SC IC readers, serial magstripe readers and scanners, keyboard wedges."""
