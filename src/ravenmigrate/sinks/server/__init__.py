"""ravenmigrate.sinks.server"""
