// Chart.js, only the parts a live-data line chart needs; loaded when a chart is first shown (its own chunk).
import { CategoryScale, Chart, LinearScale, LineController, LineElement, PointElement } from 'chart.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale);
export { Chart };
