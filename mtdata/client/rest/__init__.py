"""The client's REST APIs (protocol §2): accounts and their replicas, provisioning profiles, tokens, expert
advisors, the demo-account generator and historical market data, over one ``HttpClient`` (``http``) and the
services' base URLs (``hosts``), which ``context`` bundles with the options and the token for every API object
of one ``MetaApi`` (the socket layer, the state and the monitors use it too). ``wire_model`` holds what the REST
model objects share. The public names are exported by :mod:`mtdata.client`.
"""
