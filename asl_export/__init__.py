"""Rendering state machines as ASL JSON and the deployment artefacts around them."""

from asl_export.child_machines import ChildMachine
from asl_export.cloudformation import cloudformation_template, render_cloudformation
from asl_export.deploy import DeployError, DeployResult, deploy, deploy_order
from asl_export.execution_path import ExecutionPath, execution_path, infer_roles
from asl_export.functions import FunctionSpec, function_specs_for
from asl_export.graph import machine_graph, render_graph
from asl_export.mock_config import Return, Throw, mock_config, render_mock_config
from asl_export.render import (
    ExportError,
    UnresolvedPlaceholderError,
    placeholders,
    render,
    resolve,
)
from asl_export.report import render_report
from asl_export.sam import render_sam, sam_template
from asl_export.svg import render_svg

__all__ = [
    "ChildMachine",
    "DeployError",
    "DeployResult",
    "ExecutionPath",
    "ExportError",
    "FunctionSpec",
    "Return",
    "Throw",
    "UnresolvedPlaceholderError",
    "cloudformation_template",
    "deploy",
    "deploy_order",
    "execution_path",
    "function_specs_for",
    "infer_roles",
    "machine_graph",
    "mock_config",
    "placeholders",
    "render",
    "render_cloudformation",
    "render_graph",
    "render_mock_config",
    "render_report",
    "render_sam",
    "render_svg",
    "resolve",
    "sam_template",
]
