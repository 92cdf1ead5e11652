"""Receipt printing: the print document, ESC/POS encoding (text and image), the spooler."""
