"""Two schemas compared from one side of the wire, keyword by keyword."""
